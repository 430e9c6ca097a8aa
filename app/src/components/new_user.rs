//! The "New user" dialog: up to five users filled in at once, checked together and
//! created together (or not at all), then a confirmation with a CSV of what was made.

use leptos::prelude::*;

use super::chip_picker::ChipPicker;
use super::use_users_ctx;
use crate::api::lifecycle::{create_users, list_groups, list_roles};
use crate::domain::account::{
    parse_new_users, row_key, NewUserForm, PasswordChoice, LANGUAGES, MAX_NEW_USERS,
};
use crate::domain::lifecycle::created_users_csv;
use crate::domain::permissions::DEFAULT_ROLE;
use crate::domain::{AppError, CreatedUser, FieldErrors};

/// A `data:` URL holding `text` as a UTF-8 CSV (with a BOM, so Excel reads it right).
pub fn csv_data_url(text: &str) -> String {
    let mut out = String::from("data:text/csv;charset=utf-8,%EF%BB%BF");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[component]
pub fn NewUserDialog() -> impl IntoView {
    let ctx = use_users_ctx();
    view! {
        <Show when=move || ctx.creating.get()>
            <NewUserForms/>
        </Show>
    }
}

#[component]
fn NewUserForms() -> impl IntoView {
    let ctx = use_users_ctx();
    let roles = Resource::new(|| (), |_| list_roles());
    let groups = Resource::new(|| (), |_| list_groups());
    let fields = Resource::new(|| (), |_| crate::api::fields::list_fields(false));
    let required_fields = Signal::derive(move || {
        fields
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f.required)
            .collect::<Vec<_>>()
    });
    let default_role = move || {
        roles
            .get()
            .and_then(Result::ok)
            .and_then(|rs| {
                rs.into_iter()
                    .find(|r| r.name == DEFAULT_ROLE)
                    .map(|r| r.id)
            })
            .unwrap_or(0)
    };
    let forms = RwSignal::new(vec![NewUserForm {
        language: "en".into(),
        ..Default::default()
    }]);
    let (errors, set_errors) = signal(FieldErrors::new());
    let (created, set_created) = signal(None::<Vec<CreatedUser>>);
    let submit = Action::new(|forms: &Vec<NewUserForm>| create_users(forms.clone()));
    Effect::new(move |_| {
        if let Some(result) = submit.value().get() {
            match result {
                Ok(users) => {
                    set_errors.set(FieldErrors::new());
                    ctx.changed();
                    set_created.set(Some(users));
                }
                Err(AppError::Validation(e)) => {
                    set_errors.set(e);
                    focus_first_invalid();
                }
                Err(e) => set_errors.set(FieldErrors::from([(
                    "form".to_string(),
                    vec![e.to_string()],
                )])),
            }
        }
    });
    // Every form starts with the default role once the roles are known.
    Effect::new(move |_| {
        let role = default_role();
        if role > 0 {
            forms.update(|fs| {
                fs.iter_mut()
                    .filter(|f| f.role_id == 0)
                    .for_each(|f| f.role_id = role)
            });
        }
    });
    let close = move || ctx.creating.set(false);
    // Start typing at once: focus the first field when the dialog opens.
    Effect::new(move |_| {
        request_animation_frame(|| {
            use wasm_bindgen::JsCast;
            if let Some(el) = document()
                .query_selector("[data-first-field]")
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
            }
        });
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let all = forms.get_untracked();
        match parse_new_users(&all) {
            Ok(_) => {
                set_errors.set(FieldErrors::new());
                submit.dispatch(all);
            }
            // Nothing a server could add (no rows, or too many).
            Err(e) if e.contains_key("form") => set_errors.set(e),
            Err(e) => {
                // What the browser sees at once; the server answers with these and
                // what only it knows (identities taken, roles, fields) together.
                set_errors.set(e);
                focus_first_invalid();
                submit.dispatch(all);
            }
        }
    };
    let add_another = move |_| {
        forms.update(|fs| {
            if fs.len() < MAX_NEW_USERS {
                let role = fs.last().map(|f| f.role_id).unwrap_or_default();
                fs.push(NewUserForm {
                    language: "en".into(),
                    role_id: role,
                    ..Default::default()
                });
            }
        });
        request_animation_frame(|| {
            use wasm_bindgen::JsCast;
            let firsts = document().query_selector_all("[data-first-field]").ok();
            if let Some(list) = firsts {
                if let Some(el) = list
                    .item(list.length().saturating_sub(1))
                    .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = el.focus();
                }
            }
        });
    };
    let group_names = Signal::derive(move || {
        groups
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|g| g.name)
            .collect::<Vec<_>>()
    });
    let form_error = move || errors.read().get("form").map(|m| m.join(" "));

    view! {
        <div class="modal-backdrop"></div>
        <div class="modal wide" role="dialog" aria-modal="true" aria-labelledby="new-user-title"
            on:keydown=move |ev| if ev.key() == "Escape" { ev.stop_propagation(); close() }>
            <Show when=move || created.read().is_none() fallback=move || view! {
                <Created users=created.get().unwrap_or_default() on_more=Callback::new(move |_| {
                    forms.set(vec![NewUserForm { language: "en".into(), role_id: default_role(), ..Default::default() }]);
                    set_created.set(None);
                }) on_done=Callback::new(move |_| close())/>
            }>
                <h2 id="new-user-title">"New users"</h2>
                <form novalidate on:submit=on_submit>
                    <For each=move || { (0..forms.read().len()).collect::<Vec<usize>>() } key=|i| *i let:index>
                        <UserFieldset index forms errors roles=roles group_names required_fields
                            on_remove=Callback::new(move |i: usize| forms.update(|fs| { if fs.len() > 1 { fs.remove(i); } }))/>
                    </For>
                    <p class="form-error" role="alert">{form_error}</p>
                    <div class="modal-actions">
                        <button type="button" on:click=add_another
                            disabled=move || { forms.read().len() >= MAX_NEW_USERS }>
                            {move || if forms.read().len() >= MAX_NEW_USERS { format!("At most {MAX_NEW_USERS} at once") } else { "Add another".to_string() }}
                        </button>
                        <span class="spacer"></span>
                        <button type="button" on:click=move |_| close()>"Cancel"</button>
                        <button type="submit" class="primary" disabled=move || submit.pending().get()>
                            {move || {
                                let n = forms.read().len();
                                if submit.pending().get() { "Creating…".to_string() }
                                else if n == 1 { "Create user".to_string() }
                                else { format!("Create {n} users") }
                            }}
                        </button>
                    </div>
                </form>
            </Show>
        </div>
    }
}

fn focus_first_invalid() {
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        if let Some(el) = document()
            .query_selector("[aria-invalid='true']")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

#[component]
fn UserFieldset(
    index: usize,
    forms: RwSignal<Vec<NewUserForm>>,
    errors: ReadSignal<FieldErrors>,
    roles: Resource<Result<Vec<crate::domain::RoleInfo>, AppError>>,
    group_names: Signal<Vec<String>>,
    required_fields: Signal<Vec<crate::domain::fields::FieldDef>>,
    on_remove: Callback<usize>,
) -> impl IntoView {
    let get = move |f: fn(&NewUserForm) -> String| {
        move || forms.read().get(index).map(f).unwrap_or_default()
    };
    let set = move |f: fn(&mut NewUserForm, String)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            forms.update(|fs| {
                if let Some(form) = fs.get_mut(index) {
                    f(form, v)
                }
            });
        }
    };
    let err = move |field: &'static str| {
        move || {
            errors
                .read()
                .get(&row_key(index, field))
                .map(|m| m.join(" "))
        }
    };
    let invalid = move |field: &'static str| {
        move || {
            errors
                .read()
                .contains_key(&row_key(index, field))
                .to_string()
        }
    };
    let id = move |field: &str| format!("new-{index}-{field}");
    let text_field = move |field: &'static str,
                           label: &'static str,
                           kind: &'static str,
                           get_f: fn(&NewUserForm) -> String,
                           set_f: fn(&mut NewUserForm, String),
                           hint: Option<&'static str>| {
        let first = field == "first_name";
        view! {
            <div class="field">
                <label for=id(field)>{label}</label>
                <input id=id(field) type=kind autocomplete="off" data-first-field=first.then_some("")
                    prop:value=get(get_f) on:input=set(set_f)
                    aria-invalid=invalid(field) aria-describedby=format!("{}-error", id(field))/>
                {hint.map(|h| view! { <span class="hint">{h}</span> })}
                <p id=format!("{}-error", id(field)) class="field-error">{err(field)}</p>
            </div>
        }
    };
    let choice = move || {
        forms
            .read()
            .get(index)
            .map(|f| f.password_choice)
            .unwrap_or_default()
    };
    let set_choice = move |c: PasswordChoice| {
        forms.update(|fs| {
            if let Some(f) = fs.get_mut(index) {
                f.password_choice = c
            }
        })
    };
    let chosen_groups = Signal::derive(move || {
        forms
            .read()
            .get(index)
            .map(|f| f.groups.clone())
            .unwrap_or_default()
    });
    view! {
        <fieldset class="new-user">
            <legend>{format!("User {}", index + 1)}</legend>
            <Show when=move || { forms.read().len() > 1 }>
                <button type="button" class="ghost small remove-user" aria-label=format!("Remove user {}", index + 1)
                    on:click=move |_| on_remove.run(index)>"Remove"</button>
            </Show>
            <div class="grid">
                {text_field("first_name", "First name", "text", |f| f.first_name.clone(), |f, v| f.first_name = v, None)}
                {text_field("last_name", "Last name", "text", |f| f.last_name.clone(), |f, v| f.last_name = v, None)}
                {text_field("email", "Email", "email", |f| f.email.clone(), |f, v| f.email = v, Some("Fixed once the user is created."))}
                {text_field("username", "Username", "text", |f| f.username.clone(), |f, v| f.username = v, None)}
                {text_field("phone", "Login phone", "tel", |f| f.phone.clone(), |f, v| f.phone = v, Some("With the country code, e.g. +46 70 123 45 67."))}
                <div class="field">
                    <label for=id("role")>"Role"</label>
                    <select id=id("role") aria-invalid=invalid("role") aria-describedby=format!("{}-error", id("role"))
                        on:change=move |ev| { let v = event_target_value(&ev).parse().unwrap_or(0); forms.update(|fs| if let Some(f) = fs.get_mut(index) { f.role_id = v }) }>
                        {move || roles.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|r| {
                            let rid = r.id;
                            view! { <option value=r.id.to_string() selected=move || forms.read().get(index).is_some_and(|f| f.role_id == rid)>{r.name}</option> }
                        }).collect_view()}
                    </select>
                    <p id=format!("{}-error", id("role")) class="field-error">{err("role")}</p>
                </div>
                <div class="field">
                    <label for=id("language")>"Language"</label>
                    <select id=id("language") on:change=set(|f, v| f.language = v)>
                        {LANGUAGES.into_iter().map(|(code, name)| view! {
                            <option value=code selected=move || forms.read().get(index).is_some_and(|f| f.language == code)>{name}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field span">
                    <span class="label" id=id("groups-label")>"Groups"</span>
                    <ChipPicker kind="group" id=format!("new-{index}-groups") options=group_names selected=chosen_groups
                        on_change=Callback::new(move |names: Vec<String>| forms.update(|fs| if let Some(f) = fs.get_mut(index) { f.groups = names }))/>
                    <p class="field-error">{err("groups")}</p>
                </div>
                {move || required_fields.get().into_iter().map(|f| {
                    use crate::domain::fields::{error_key, FieldKind};
                    let key = f.key.clone();
                    let input = id(&format!("field-{key}"));
                    let error = row_key(index, &error_key(&key));
                    let (e1, e2) = (error.clone(), error.clone());
                    let message = move || errors.read().get(&e1).map(|m| m.join(" "));
                    let bad = move || errors.read().contains_key(&e2).to_string();
                    let (k1, k2) = (key.clone(), key.clone());
                    let value = move || forms.read().get(index).and_then(|f| f.attributes.get(&k1).cloned()).unwrap_or_default();
                    let set = move |v: String| forms.update(|fs| if let Some(f) = fs.get_mut(index) { f.attributes.insert(k2.clone(), v); });
                    let options: Vec<String> = match f.kind {
                        FieldKind::Bool => vec!["yes".into(), "no".into()],
                        FieldKind::Choice => f.choices.clone(),
                        _ => Vec::new(),
                    };
                    let control = if options.is_empty() {
                        let kind = if f.kind == FieldKind::Date { "date" } else { "text" };
                        view! {
                            <input id=input.clone() type=kind autocomplete="off" prop:value=super::shown_date(value)
                                on:input=move |ev| set(super::input_value(&ev))
                                aria-invalid=bad aria-describedby=format!("{input}-error")/>
                        }.into_any()
                    } else {
                        view! {
                            <select id=input.clone() aria-invalid=bad aria-describedby=format!("{input}-error")
                                on:change=move |ev| set(event_target_value(&ev))>
                                <option value="">"—"</option>
                                {options.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                            </select>
                        }.into_any()
                    };
                    let hint = (f.kind == FieldKind::MultiChoice).then(|| format!("Comma-separated: {}", f.choices.join(", ")));
                    view! {
                        <div class="field">
                            <label for=input.clone()>{format!("{} (required)", f.label)}</label>
                            {control}
                            {hint.map(|h| view! { <span class="hint">{h}</span> })}
                            <p id=format!("{input}-error") class="field-error">{message}</p>
                        </div>
                    }
                }).collect_view()}
            </div>
            <fieldset class="password-choice">
                <legend>"Password"</legend>
                {PasswordChoice::ALL.into_iter().map(|c| view! {
                    <label class="check">
                        <input type="radio" name=format!("password-choice-{index}") value=c.as_str()
                            prop:checked=move || choice() == c on:change=move |_| set_choice(c)/>
                        {c.label()}
                    </label>
                }).collect_view()}
                <Show when=move || choice() == PasswordChoice::Set>
                    {text_field("password", "Password", "password", |f| f.password.clone(), |f, v| f.password = v, Some("At least 12 characters."))}
                </Show>
            </fieldset>
        </fieldset>
    }
}

#[component]
fn Created(users: Vec<CreatedUser>, on_more: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let csv = csv_data_url(&created_users_csv(&users));
    let n = users.len();
    let any_password = users.iter().any(|u| u.temporary_password.is_some());
    let done_btn = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(b) = done_btn.get() {
            let _ = b.focus();
        }
    });
    view! {
        <h2 id="new-user-title">{if n == 1 { "1 user created".to_string() } else { format!("{n} users created") }}</h2>
        <p role="status">{if n == 1 { "The user was created.".to_string() } else { format!("All {n} users were created.") }}
            {any_password.then_some(" Temporary passwords are shown only now: download the CSV or copy them before closing.")}</p>
        <table class="created" aria-label="Created users">
            <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Login"</th><th scope="col">"Status"</th><th scope="col">"Groups"</th><th scope="col">"Temporary password"</th></tr></thead>
            <tbody>
                {users.into_iter().map(|u| view! {
                    <tr>
                        <td>{crate::domain::user::display_name(&u.first_name, &u.last_name, &u.email)}</td>
                        <td>{u.email.clone()}</td>
                        <td>{u.username.clone().or(u.phone.clone()).unwrap_or_default()}</td>
                        <td>{u.status.label()}</td>
                        <td>{u.groups.join(", ")}</td>
                        <td>{match u.temporary_password.clone() {
                            Some(p) => view! {
                                <code>{p.clone()}</code>" "
                                <super::copy::CopyButton text=p label=format!("Copy the temporary password of {}", u.email)/>
                            }.into_any(),
                            None => view! { <code>"—"</code> }.into_any(),
                        }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <div class="modal-actions">
            <a class="button" href=csv download="created-users.csv">"Download CSV"</a>
            <span class="spacer"></span>
            <button type="button" on:click=move |_| on_more.run(())>"Create more"</button>
            <button type="button" class="primary" node_ref=done_btn on:click=move |_| on_done.run(())>"Done"</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::csv_data_url;

    #[test]
    fn csv_data_urls_percent_encode_everything_but_safe_bytes() {
        assert_eq!(
            csv_data_url("a,b\r\nÅ"),
            "data:text/csv;charset=utf-8,%EF%BB%BFa%2Cb%0D%0A%C3%85"
        );
    }
}
