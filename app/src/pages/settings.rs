//! Settings → API keys: the keys the admins' own apps report activity with. A new
//! key is shown once; only its hash is stored. Keys can be revoked.

use leptos::prelude::*;

use crate::api::activity::{create_api_key, list_api_keys, revoke_api_key};
use crate::components::format;
use crate::components::signed_in::{SignedIn, TopBar};
use crate::domain::AdminInfo;

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <ApiKeys me/> }/> }
}

#[component]
fn ApiKeys(me: AdminInfo) -> impl IntoView {
    let version = RwSignal::new(0u64);
    let keys = LocalResource::new(move || {
        version.track();
        list_api_keys()
    });
    let live = crate::components::use_live();
    let (name, set_name) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let (fresh, set_fresh) = signal(None::<String>);
    let create = Action::new(move |n: &String| {
        let n = n.clone();
        async move {
            match create_api_key(n).await {
                Ok(key) => {
                    set_fresh.try_set(Some(key));
                    set_name.try_set(String::new());
                    set_error.try_set(None);
                    version.try_update(|v| *v += 1);
                }
                Err(e) => {
                    set_error.try_set(Some(e.summary()));
                }
            }
        }
    });
    let revoke = Action::new(move |id: &i64| {
        let id = *id;
        async move {
            if let Err(e) = revoke_api_key(id).await {
                set_error.try_set(Some(format!("Not revoked: {e}")));
            }
            version.try_update(|v| *v += 1);
        }
    });
    view! {
        <div class="app">
            <TopBar me current="settings" inert=Signal::derive(|| false)/>
            <main class="users-main narrow">
                <div class="page-head"><h1>"Settings"</h1></div>
                <section aria-labelledby="keys-title">
                    <h2 id="keys-title">"API keys"</h2>
                    <p class="muted">"Your apps send activity to " <code>"POST /api/v1/events"</code> " with " <code>"Authorization: Bearer <key>"</code> "."</p>
                    <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); create.dispatch(name.get_untracked()); }>
                        <label for="key-name">"Key name"</label>
                        <input id="key-name" type="text" placeholder="e.g. Web shop" prop:value=move || name.get()
                            on:input=move |ev| set_name.set(event_target_value(&ev)) aria-describedby="key-error"/>
                        <button type="submit" class="primary" disabled=move || create.pending().get()>"Create key"</button>
                        <p id="key-error" class="field-error" role="alert">{move || error.get()}</p>
                    </form>
                    {move || fresh.get().map(|key| view! {
                        <div class="fresh-key" role="status">
                            <p><strong>"Copy the new key now: it is not shown again."</strong></p>
                            <div class="copy-row">
                                <input type="text" readonly aria-label="New API key" value=key.clone() prop:value=key.clone()/>
                                <crate::components::copy::CopyButton text=key.clone() label="Copy the new API key".to_string()/>
                            </div>
                        </div>
                    })}
                    {move || match live.get().then(|| keys.get()).flatten() {
                        None => view! { <p role="status">"Loading keys…"</p> }.into_any(),
                        Some(Err(e)) => view! { <p class="state error" role="alert">{e.to_string()}</p> }.into_any(),
                        Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"No keys yet."</p> }.into_any(),
                        Some(Ok(list)) => view! {
                            <table aria-label="API keys">
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Created"</th>
                                    <th scope="col">"Last used"</th><th scope="col">"Status"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|k| {
                                        let id = k.id;
                                        let name = k.name.clone();
                                        view! {
                                            <tr>
                                                <td>{k.name.clone()}</td>
                                                <td><code>{format!("{}…", k.prefix)}</code></td>
                                                <td>{format::date_time(&k.created_at)}</td>
                                                <td>{format::opt_date_time(&k.last_used_at)}</td>
                                                <td>{match k.revoked_at {
                                                    Some(at) => view! { <span>{format!("Revoked {}", format::date_time(&at))}</span> }.into_any(),
                                                    None => view! {
                                                        <button type="button" class="danger small" aria-label=format!("Revoke {name}")
                                                            on:click=move |_| { revoke.dispatch(id); }>"Revoke"</button>
                                                    }.into_any(),
                                                }}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }}
                </section>
            </main>
        </div>
    }
}
