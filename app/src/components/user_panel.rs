//! The drawer's content for one user: actions (ban / activate, delete), the edit form
//! (every field but email), tags and groups, devices and comments.

use leptos::prelude::*;

use super::account_actions::{invite, log_out_everywhere, ResetTarget};
use super::chip_picker::ChipPicker;
use super::reminders::Reminders;
use super::row_menu::Confirm;
use super::timeline::Timeline;
use super::{format, use_users_ctx};
use crate::api::lifecycle::{
    add_comment, delete_comment, list_comments, list_groups, list_roles, remove_device,
    set_user_groups, set_user_status, set_user_tags, update_user,
};
use crate::api::users::list_tags;
use crate::domain::account::{UserEdit, UserEditForm, LANGUAGES};
use crate::domain::permissions::{USERS_DELETE, USERS_PASSWORDS, USERS_SESSIONS, USERS_WRITE};
use crate::domain::user::format_balance;
use crate::domain::{AppError, FieldErrors, Status, UserDetail};

#[component]
pub fn UserPanel(
    user: UserDetail,
    reload: RwSignal<u64>,
    /// Called once this content is live in the browser.
    on_ready: Callback<()>,
) -> impl IntoView {
    let ctx = use_users_ctx();
    // Effects run only in the browser, once the content is hydrated.
    let (live, set_live) = signal(false);
    Effect::new(move |_| {
        set_live.set(true);
        on_ready.run(());
    });
    let can_write = ctx.can(USERS_WRITE);
    let can_delete = ctx.can(USERS_DELETE);
    let can_passwords = ctx.can(USERS_PASSWORDS);
    let can_sessions = ctx.can(USERS_SESSIONS);
    let id = user.id;
    let name = user.display_name();
    let is_me = ctx.me.with_value(|me| me.id == id);

    let status = user.status;
    // The action answers with the status it set: its input is gone once it resolves.
    let set_status = Action::new(move |s: &Status| {
        let s = *s;
        async move { set_user_status(id, s).await.map(|change| (s, change)) }
    });
    let (action_error, set_action_error) = signal(None::<String>);
    let status_name = name.clone();
    Effect::new(move |_| {
        if let Some(result) = set_status.value().get() {
            match result {
                Ok((s, change)) => {
                    ctx.changed();
                    super::notices::push(
                        ctx.notices,
                        super::notices::Notice::undoable(
                            format!("{status_name} is now {}.", s.label().to_lowercase()),
                            super::notices::Undo::Status(change),
                        ),
                    );
                    reload.update(|r| *r += 1);
                }
                Err(e) => set_action_error.set(Some(e.to_string())),
            }
        }
    });
    let delete_name = name.clone();
    let reset_name = name.clone();
    let invite_name = name.clone();
    let sessions_name = name.clone();
    let invite_user = Action::new(move |_: &()| {
        let name = invite_name.clone();
        async move {
            if invite(ctx, id, name).await {
                reload.update(|r| *r += 1);
            }
        }
    });
    let end_sessions =
        Action::new(move |_: &()| log_out_everywhere(ctx, id, sessions_name.clone()));
    // An invitation is for someone without a password yet (or still invited).
    let can_invite = can_passwords && (!user.has_password || status == Status::Invited);
    let facts: Vec<(&str, String)> = vec![
        ("ID", user.id.to_string()),
        ("Status", user.status.label().to_string()),
        ("Balance", format_balance(user.balance)),
        (
            "Password",
            if user.has_password {
                if user.must_change_password {
                    "Temporary (must be changed)"
                } else {
                    "Set"
                }
            } else {
                "Not set"
            }
            .to_string(),
        ),
        ("Signup source", user.signup_source.replace('_', " ")),
        ("Signed up", format::date_time(&user.created_at)),
        ("Last access", format::opt_date_time(&user.last_access_at)),
        ("Updated", format::date_time(&user.updated_at)),
    ];

    // Scrolling near the end of the drawer asks the timeline for more.
    let scroll_end = super::timeline::ScrollEnd(RwSignal::new(0));
    provide_context(scroll_end);
    let on_scroll = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        if let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        {
            if el.scroll_top() + el.client_height() >= el.scroll_height() - 200 {
                scroll_end.0.update(|n| *n += 1);
            }
        }
    };
    view! {
        <div class="drawer-body" on:scroll=on_scroll>
            {(can_write || can_delete || can_passwords || can_sessions).then(|| view! {
                <div class="drawer-actions" role="group" aria-label="User actions">
                    {(can_write && !is_me).then(|| match status {
                        Status::Banned => view! {
                            <button type="button" on:click=move |_| { set_status.dispatch(Status::Active); }>"Activate"</button>
                        }.into_any(),
                        _ => view! {
                            <button type="button" class="danger" on:click=move |_| { set_status.dispatch(Status::Banned); }>"Ban"</button>
                        }.into_any(),
                    })}
                    {(can_passwords && !is_me).then(|| {
                        let name = reset_name.clone();
                        view! {
                            <button type="button" on:click=move |_| ctx.reset.set(Some(ResetTarget { id, name: name.clone(), reload: Some(reload) }))>"Reset password…"</button>
                        }
                    })}
                    {(can_invite && !is_me).then(|| view! {
                        <button type="button" disabled=move || invite_user.pending().get()
                            on:click=move |_| { invite_user.dispatch(()); }>
                            {move || if invite_user.pending().get() { "Sending…" } else { "Send invitation" }}
                        </button>
                    })}
                    {(can_sessions && !is_me).then(|| view! {
                        <button type="button" disabled=move || end_sessions.pending().get()
                            on:click=move |_| { end_sessions.dispatch(()); }>"Log out everywhere"</button>
                    })}
                    {(can_delete && !is_me).then(|| {
                        let name = delete_name.clone();
                        view! {
                            <button type="button" class="danger" on:click=move |_| ctx.confirm.set(Some(Confirm::DeleteOne { id, name: name.clone() }))>"Delete…"</button>
                        }
                    })}
                    <p class="form-error" role="alert">{move || action_error.get()}</p>
                </div>
            })}
            <dl class="fields">
                {facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
            <EditForm user=user.clone() reload can_write/>
            <section aria-labelledby="drawer-tags">
                <h3 id="drawer-tags">"Tags"</h3>
                <Links user_id=id kind="tag" initial=user.tags.iter().map(|t| t.name.clone()).collect() can_write/>
            </section>
            <section aria-labelledby="drawer-groups">
                <h3 id="drawer-groups">"Groups"</h3>
                <Links user_id=id kind="group" initial=user.groups.iter().map(|g| g.name.clone()).collect() can_write/>
            </section>
            <Devices user=user.clone() reload can_write/>
            // Browser-only sections: drawn after hydration, so server and browser
            // never disagree about data only the browser loads.
            <Show when=move || live.get()>
                <Reminders user_id=id/>
                <Timeline user_id=id/>
                <Comments user_id=id/>
            </Show>
        </div>
    }
}

#[component]
fn EditForm(user: UserDetail, reload: RwSignal<u64>, can_write: bool) -> impl IntoView {
    let ctx = use_users_ctx();
    let id = user.id;
    let original = UserEditForm::of(&user);
    let form = RwSignal::new(original.clone());
    let (errors, set_errors) = signal(FieldErrors::new());
    let (conflict, set_conflict) = signal(None::<String>);
    // Data loaded inside the drawer is fetched in the browser only: resources created
    // in a resolved Suspend do not hydrate reliably, and the user data is already here.
    let roles = LocalResource::new(list_roles);
    let custom_fields = LocalResource::new(|| crate::api::fields::list_fields(false));
    let save = Action::new(move |f: &UserEditForm| update_user(id, f.clone()));
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            match result {
                Ok(()) => {
                    set_errors.set(FieldErrors::new());
                    ctx.changed();
                    ctx.notify("Changes saved.");
                    reload.update(|r| *r += 1);
                }
                Err(AppError::Validation(e)) => set_errors.set(e),
                Err(AppError::Conflict(msg)) => set_conflict.set(Some(msg)),
                Err(e) => set_errors.set(FieldErrors::from([(
                    "form".to_string(),
                    vec![e.to_string()],
                )])),
            }
        }
    });
    let dirty = {
        let original = original.clone();
        move || form.with(|f| *f != original)
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let f = form.get_untracked();
        match UserEdit::try_from(f.clone()) {
            Ok(_) => {
                set_errors.set(FieldErrors::new());
                save.dispatch(f);
            }
            Err(e) => set_errors.set(e),
        }
    };
    let reset = {
        let original = original.clone();
        move |_| {
            form.set(original.clone());
            set_errors.set(FieldErrors::new());
        }
    };
    let err = move |field: &'static str| move || errors.read().get(field).map(|m| m.join(" "));
    let invalid = move |field: &'static str| move || errors.read().contains_key(field).to_string();
    let text = move |field: &'static str,
                     label: &'static str,
                     get: fn(&UserEditForm) -> String,
                     set: fn(&mut UserEditForm, String)| {
        let input_id = format!("edit-{field}");
        view! {
            <div class="field">
                <label for=input_id.clone()>{label}</label>
                <input id=input_id.clone() type="text" autocomplete="off" readonly=!can_write
                    value=form.with_untracked(get) prop:value=move || form.with(get)
                    on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| set(f, v)) }
                    aria-invalid=invalid(field) aria-describedby=format!("{input_id}-error")/>
                <p id=format!("{input_id}-error") class="field-error">{err(field)}</p>
            </div>
        }
    };
    let opt_in_changed = match (&user.email_opt_in_changed_at, &user.email_opt_in_changed_by) {
        (Some(at), Some(by)) => format!("{} by {by}", format::date_time(at)),
        (at, _) => format::opt_date_time(at),
    };
    let current_role = user.role.id;
    view! {
        <form class="edit-form" aria-label="Profile" novalidate on:submit=on_submit>
            <h3>"Profile"</h3>
            <div class="field">
                <label for="edit-email">"Email"</label>
                <input id="edit-email" type="email" readonly aria-readonly="true" value=user.email.clone() aria-describedby="edit-email-hint"/>
                <span id="edit-email-hint" class="hint">"Fixed once created: the email identifies the user in sign-in and imports."</span>
            </div>
            <div class="grid">
                {text("first_name", "First name", |f| f.first_name.clone(), |f, v| f.first_name = v)}
                {text("last_name", "Last name", |f| f.last_name.clone(), |f, v| f.last_name = v)}
                {text("username", "Username", |f| f.username.clone(), |f, v| f.username = v)}
                {text("phone", "Phone", |f| f.phone.clone(), |f, v| f.phone = v)}
                {text("job_title", "Job title", |f| f.job_title.clone(), |f, v| f.job_title = v)}
                {text("company", "Company", |f| f.company.clone(), |f, v| f.company = v)}
            </div>
            {text("address", "Address", |f| f.address.clone(), |f, v| f.address = v)}
            <div class="grid">
                <div class="field">
                    <label for="edit-language">"Language"</label>
                    <select id="edit-language" disabled=!can_write aria-invalid=invalid("language")
                        on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| f.language = v) }>
                        {
                            let current = user.language.clone();
                            let known = LANGUAGES.iter().any(|(c, _)| *c == current);
                            let mut options: Vec<(String, String)> = LANGUAGES.iter().map(|(c, n)| (c.to_string(), n.to_string())).collect();
                            if !known {
                                options.push((current.clone(), current.clone()));
                            }
                            options.into_iter().map(|(code, label)| {
                                let c = code.clone();
                                view! { <option value=code selected=move || form.with(|f| f.language == c)>{label}</option> }
                            }).collect_view()
                        }
                    </select>
                    <p class="field-error">{err("language")}</p>
                </div>
                <div class="field">
                    <label for="edit-role">"Role"</label>
                    // The other roles load in the browser (a LocalResource is empty on
                    // the server and while hydrating), so both draw the same markup.
                    <select id="edit-role" disabled=!can_write aria-invalid=invalid("role") aria-describedby="edit-role-error"
                        on:change=move |ev| { let v = event_target_value(&ev).parse().unwrap_or(0); form.update(|f| f.role_id = v) }>
                        <option value=user.role.id.to_string() selected=move || form.with(|f| f.role_id == current_role)>{user.role.name.clone()}</option>
                        {move || roles.get().and_then(Result::ok).unwrap_or_default().into_iter().filter(|r| r.id != current_role).map(|r| {
                            let rid = r.id;
                            view! { <option value=r.id.to_string() selected=move || form.with(|f| f.role_id == rid)>{r.name}</option> }
                        }).collect_view()}
                    </select>
                    <p id="edit-role-error" class="field-error">{err("role")}</p>
                </div>
                {text("balance", "Balance", |f| f.balance.clone(), |f, v| f.balance = v)}
            </div>
            <div class="field">
                <label class="check">
                    <input type="checkbox" disabled=!can_write checked=user.email_opt_in prop:checked=move || form.with(|f| f.email_opt_in)
                        on:change=move |ev| { let v = event_target_checked(&ev); form.update(|f| f.email_opt_in = v) }
                        aria-describedby="edit-opt-in-hint"/>
                    "Receives email communication"
                </label>
                <span id="edit-opt-in-hint" class="hint">{format!("Last changed: {opt_in_changed}")}</span>
            </div>
            <div class="field">
                <label for="edit-note">"Private note"</label>
                <textarea id="edit-note" rows="3" readonly=!can_write aria-describedby="edit-note-hint edit-note-error"
                    prop:value=move || form.with(|f| f.note.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| f.note = v) }>{user.note.clone()}</textarea>
                <span id="edit-note-hint" class="hint">"Only admins see this."</span>
                <p id="edit-note-error" class="field-error">{err("note")}</p>
            </div>
            {move || custom_fields.get().and_then(Result::ok).filter(|list| !list.is_empty()).map(|list| view! {
                <fieldset class="custom-fields">
                    <legend>"More fields"</legend>
                    {list.into_iter().map(|f| view! { <CustomFieldInput field=f form errors can_write/> }).collect_view()}
                </fieldset>
            })}
            <p class="form-error" role="alert">{move || errors.read().get("form").map(|m| m.join(" "))}</p>
            <Show when=move || conflict.read().is_some()>
                <div class="conflict" role="alert">
                    <p>{move || conflict.get()}</p>
                    <button type="button" on:click=move |_| { set_conflict.set(None); reload.update(|r| *r += 1); }>"Reload"</button>
                </div>
            </Show>
            {can_write.then(|| view! {
                <div class="form-actions">
                    <button type="submit" class="primary" disabled={ let dirty = dirty.clone(); move || !dirty() || save.pending().get() }>
                        {move || if save.pending().get() { "Saving…" } else { "Save changes" }}
                    </button>
                    <button type="button" disabled={ let dirty = dirty.clone(); move || !dirty() } on:click=reset.clone()>"Discard changes"</button>
                </div>
            })}
        </form>
    }
}

/// The user's tags or groups, saved as soon as they change.
#[component]
fn Links(user_id: i64, kind: &'static str, initial: Vec<String>, can_write: bool) -> impl IntoView {
    let ctx = use_users_ctx();
    let (chosen, set_chosen) = signal(initial);
    let options = LocalResource::new(move || {
        ctx.revision.track();
        async move {
            if kind == "tag" {
                list_tags()
                    .await
                    .map(|l| l.into_iter().map(|t| t.name).collect::<Vec<_>>())
            } else {
                list_groups()
                    .await
                    .map(|l| l.into_iter().map(|g| g.name).collect::<Vec<_>>())
            }
        }
    });
    let save = Action::new(move |names: &Vec<String>| {
        let names = names.clone();
        async move {
            if kind == "tag" {
                set_user_tags(user_id, names).await
            } else {
                set_user_groups(user_id, names).await
            }
        }
    });
    let (error, set_error) = signal(None::<String>);
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            match result {
                Ok(refs) => {
                    set_error.set(None);
                    set_chosen.set(refs.into_iter().map(|r| r.name).collect());
                    ctx.changed();
                }
                Err(e) => set_error.set(Some(format!("Not saved: {e}"))),
            }
        }
    });
    view! {
        <ChipPicker kind id=format!("drawer-{kind}s")
            options=Signal::derive(move || options.get().and_then(Result::ok).unwrap_or_default())
            selected=chosen
            disabled=Signal::derive(move || !can_write || save.pending().get())
            on_change=Callback::new(move |names: Vec<String>| { set_chosen.set(names.clone()); save.dispatch(names); })/>
        <p class="field-error" role="alert">{move || error.get()}</p>
    }
}

#[component]
fn Devices(user: UserDetail, reload: RwSignal<u64>, can_write: bool) -> impl IntoView {
    let ctx = use_users_ctx();
    let id = user.id;
    let remove = Action::new(move |device: &i64| remove_device(id, *device));
    Effect::new(move |_| {
        if let Some(result) = remove.value().get() {
            match result {
                Ok(()) => {
                    ctx.changed();
                    ctx.notify("Device removed.");
                    reload.update(|r| *r += 1);
                }
                Err(e) => ctx.alert(format!("The device was not removed: {e}")),
            }
        }
    });
    view! {
        <section aria-labelledby="drawer-devices">
            <h3 id="drawer-devices">"Devices"</h3>
            {if user.devices.is_empty() {
                view! { <p class="muted">"No devices."</p> }.into_any()
            } else {
                view! {
                    <table class="devices" aria-labelledby="drawer-devices">
                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Platform"</th><th scope="col">"Last seen"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                        <tbody>
                            {user.devices.iter().map(|d| {
                                let device = d.id;
                                view! {
                                    <tr><td>{d.name.clone()}</td><td>{d.platform.clone()}</td><td>{format::opt_date_time(&d.last_seen_at)}</td>
                                        <td>{can_write.then(|| view! {
                                            <button type="button" class="ghost small" aria-label=format!("Remove device {}", d.name)
                                                disabled=move || remove.pending().get()
                                                on:click=move |_| { remove.dispatch(device); }>"Remove"</button>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn Comments(user_id: i64) -> impl IntoView {
    let ctx = use_users_ctx();
    let me = ctx.me.with_value(|m| m.id);
    let can_write = ctx.can(USERS_WRITE);
    let version = RwSignal::new(0u64);
    let comments = LocalResource::new(move || {
        version.track();
        list_comments(user_id)
    });
    let (text, set_text) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let add = Action::new(move |body: &String| add_comment(user_id, body.clone()));
    let delete = Action::new(|id: &i64| delete_comment(*id));
    Effect::new(move |_| {
        if let Some(result) = add.value().get() {
            match result {
                Ok(()) => {
                    set_text.set(String::new());
                    set_error.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => set_error.set(Some(e.summary())),
            }
        }
    });
    Effect::new(move |_| {
        if let Some(result) = delete.value().get() {
            match result {
                Ok(()) => version.update(|v| *v += 1),
                Err(e) => ctx.alert(format!("The comment was not deleted: {e}")),
            }
        }
    });
    view! {
        <section aria-labelledby="drawer-comments">
            <h3 id="drawer-comments">"Comments"</h3>
            {can_write.then(|| view! {
                <form class="comment-form" on:submit=move |ev| { ev.prevent_default(); add.dispatch(text.get_untracked()); }>
                    <label for="new-comment" class="visually-hidden">"New comment"</label>
                    <textarea id="new-comment" rows="2" placeholder="Write a comment for other admins…"
                        prop:value=move || text.get() on:input=move |ev| set_text.set(event_target_value(&ev))
                        aria-describedby="new-comment-error"></textarea>
                    <p id="new-comment-error" class="field-error" role="alert">{move || error.get()}</p>
                    <button type="submit" disabled=move || add.pending().get() || text.read().trim().is_empty()>"Add comment"</button>
                </form>
            })}
            // Read without Suspense: a LocalResource is empty on the server and while
            // hydrating, so both draw "Loading…" first.
            {move || match comments.get() {
                None => view! { <p class="muted" role="status">"Loading comments…"</p> }.into_any(),
                Some(Err(e)) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"No comments yet."</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="comments" aria-label="Comments">
                        {list.into_iter().map(|c| {
                            let cid = c.id;
                            let mine = c.author_id == Some(me);
                            view! {
                                <li class="comment">
                                    <p class="comment-meta"><strong>{c.author.clone()}</strong>" · "{format::date_time(&c.created_at)}</p>
                                    <p class="comment-body">{c.body.clone()}</p>
                                    {(mine && can_write).then(|| view! {
                                        <button type="button" class="ghost small" aria-label="Delete comment"
                                            on:click=move |_| { delete.dispatch(cid); }>"Delete"</button>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

/// The input for one custom profile field, by its type.
#[component]
fn CustomFieldInput(
    field: crate::domain::fields::FieldDef,
    form: RwSignal<UserEditForm>,
    errors: ReadSignal<FieldErrors>,
    can_write: bool,
) -> impl IntoView {
    use crate::domain::fields::{error_key, FieldKind};
    let key = field.key.clone();
    let input_id = format!("edit-field-{key}");
    let error_id = format!("{input_id}-error");
    let error_key = error_key(&key);
    let message = {
        let k = error_key.clone();
        move || errors.read().get(&k).map(|m| m.join(" "))
    };
    let invalid = {
        let k = error_key.clone();
        move || errors.read().contains_key(&k).to_string()
    };
    let value = {
        let key = key.clone();
        move || form.with(|f| f.attributes.get(&key).cloned().unwrap_or_default())
    };
    let set = {
        let key = key.clone();
        move |v: String| {
            form.update(|f| {
                f.attributes.insert(key.clone(), v);
            })
        }
    };
    let label = if field.required {
        format!("{} (required)", field.label)
    } else {
        field.label.clone()
    };
    let control = match field.kind {
        FieldKind::Text | FieldKind::Number | FieldKind::Date => {
            let kind = if field.kind == FieldKind::Date {
                "date"
            } else {
                "text"
            };
            let mode = if field.kind == FieldKind::Number {
                "decimal"
            } else {
                "text"
            };
            let (shown, set) = (super::shown_date(value.clone()), set.clone());
            view! {
                <input id=input_id.clone() type=kind inputmode=mode autocomplete="off" readonly=!can_write
                    prop:value=shown on:input=move |ev| set(super::input_value(&ev))
                    aria-invalid=invalid.clone() aria-describedby=error_id.clone()/>
            }
            .into_any()
        }
        FieldKind::Bool | FieldKind::Choice => {
            let options: Vec<(String, String)> = if field.kind == FieldKind::Bool {
                vec![("yes".into(), "Yes".into()), ("no".into(), "No".into())]
            } else {
                field
                    .choices
                    .iter()
                    .map(|c| (c.clone(), c.clone()))
                    .collect()
            };
            let (value, set) = (value.clone(), set.clone());
            view! {
                <select id=input_id.clone() disabled=!can_write aria-invalid=invalid.clone() aria-describedby=error_id.clone()
                    on:change=move |ev| set(event_target_value(&ev))>
                    <option value="" selected={ let value = value.clone(); move || value().is_empty() }>"—"</option>
                    {options.into_iter().map(|(v, text)| {
                        let (value, v2) = (value.clone(), v.clone());
                        view! { <option value=v selected=move || value().eq_ignore_ascii_case(&v2)>{text}</option> }
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
        FieldKind::MultiChoice => {
            let choices = field.choices.clone();
            view! {
                <div id=input_id.clone() role="group" aria-labelledby=format!("{input_id}-label") aria-describedby=error_id.clone()>
                    {choices.clone().into_iter().map(|c| {
                        let (value, set, choices, c2, c3) = (value.clone(), set.clone(), choices.clone(), c.clone(), c.clone());
                        let picked = {
                            let value = value.clone();
                            move || value().split(',').any(|p| p.trim().eq_ignore_ascii_case(&c2))
                        };
                        view! {
                            <label class="check">
                                <input type="checkbox" disabled=!can_write prop:checked=picked.clone()
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        let current = value();
                                        let mut now: Vec<String> = choices.iter().filter(|x| {
                                            if x.eq_ignore_ascii_case(&c3) { on } else { current.split(',').any(|p| p.trim().eq_ignore_ascii_case(x)) }
                                        }).cloned().collect();
                                        now.dedup();
                                        set(now.join(", "));
                                    }/>
                                {c}
                            </label>
                        }
                    }).collect_view()}
                </div>
            }
            .into_any()
        }
    };
    let is_group = field.kind == FieldKind::MultiChoice;
    view! {
        <div class="field">
            {if is_group {
                view! { <span class="label" id=format!("{input_id}-label")>{label.clone()}</span> }.into_any()
            } else {
                view! { <label for=input_id.clone()>{label.clone()}</label> }.into_any()
            }}
            {control}
            <p id=error_id.clone() class="field-error">{message}</p>
        </div>
    }
}
