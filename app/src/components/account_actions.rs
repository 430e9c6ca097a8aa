//! What an admin does to a managed user's sign-in, from the row "⋯" menu and the
//! drawer: reset the password (a dialog: emailed link or temporary password shown
//! once), send an invitation, log out of every session.

use leptos::prelude::*;

use super::{use_users_ctx, UsersCtx};
use crate::api::accounts::{reset_password, send_invitation, sign_out_everywhere};
use crate::domain::email::ResetMode;

/// The user a password reset is being chosen for.
#[derive(Clone, Debug, PartialEq)]
pub struct ResetTarget {
    pub id: i64,
    pub name: String,
    /// The drawer to fetch again afterwards (it shows whether the password is temporary).
    pub reload: Option<RwSignal<u64>>,
}

/// The notice after `n` sessions of `name` ended.
pub fn sessions_ended_text(name: &str, n: u64) -> String {
    match n {
        0 => format!("{name} had no open sessions; any new sign-in needs their password."),
        1 => format!("{name} was logged out of 1 session."),
        n => format!("{name} was logged out of {n} sessions."),
    }
}

/// Sends `id` an invitation and reports the outcome as a notice; returns whether it went.
pub async fn invite(ctx: UsersCtx, id: i64, name: String) -> bool {
    match send_invitation(id).await {
        Ok(()) => {
            ctx.notify(format!(
                "An invitation was emailed to {name}. Its link works for 7 days; an earlier link no longer works."
            ));
            ctx.changed();
            true
        }
        Err(e) => {
            ctx.alert(format!("No invitation was sent to {name}: {e}"));
            false
        }
    }
}

/// Ends every session of `id` and reports it as a notice.
pub async fn log_out_everywhere(ctx: UsersCtx, id: i64, name: String) -> bool {
    match sign_out_everywhere(id).await {
        Ok(n) => {
            ctx.notify(sessions_ended_text(&name, n));
            ctx.changed();
            true
        }
        Err(e) => {
            ctx.alert(format!("{name} was not logged out: {e}"));
            false
        }
    }
}

/// The "Reset password" dialog, opened through `UsersCtx::reset`.
#[component]
pub fn ResetPasswordDialog() -> impl IntoView {
    let ctx = use_users_ctx();
    view! {
        <Show when=move || ctx.reset.read().is_some()>
            {move || ctx.reset.get().map(|target| view! { <ResetPasswordForm target/> })}
        </Show>
    }
}

#[component]
fn ResetPasswordForm(target: ResetTarget) -> impl IntoView {
    let ctx = use_users_ctx();
    let (mode, set_mode) = signal(ResetMode::Link);
    let id = target.id;
    let reload = target.reload;
    let run = Action::new(move |mode: &ResetMode| {
        let mode = *mode;
        async move { reset_password(id, mode).await.map(|temp| (mode, temp)) }
    });
    let close = move || ctx.reset.set(None);
    Effect::new(move |_| {
        if let Some(Ok(_)) = run.value().get() {
            ctx.changed();
            if let Some(reload) = reload {
                reload.update(|r| *r += 1);
            }
        }
    });
    let first = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = first.get() {
            let _ = el.focus();
        }
    });
    let name = target.name.clone();
    let done_name = target.name.clone();
    view! {
        <div class="modal-backdrop" on:click=move |_| close()></div>
        <div class="modal" role="dialog" aria-modal="true" aria-labelledby="reset-title"
            on:keydown=move |ev| if ev.key() == "Escape" { ev.stop_propagation(); close() }>
            <h2 id="reset-title">{format!("Reset the password of {name}")}</h2>
            {move || match run.value().get() {
                Some(Ok((ResetMode::Temporary, Some(password)))) => view! {
                    <p>{format!("{done_name}'s old password no longer works and every session has ended.")}</p>
                    <div class="field">
                        <label for="temp-password">"Temporary password"</label>
                        <div class="copy-row">
                            <input id="temp-password" readonly value=password.clone() class="mono"
                                on:focus=|ev| { use wasm_bindgen::JsCast; if let Some(i) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) { i.select(); } }/>
                            <super::copy::CopyButton text=password.clone() label="Copy the temporary password".to_string()/>
                        </div>
                        <p class="hint">"Shown only now. It was also emailed to them, and they must change it when they next sign in."</p>
                    </div>
                    <div class="modal-actions">
                        <button type="button" class="primary" on:click=move |_| close()>"Done"</button>
                    </div>
                }.into_any(),
                Some(Ok(_)) => view! {
                    <p role="status">{format!("A reset link was emailed to {done_name}. It works once, for 1 hour. Their old password no longer works and every session has ended.")}</p>
                    <div class="modal-actions">
                        <button type="button" class="primary" on:click=move |_| close()>"Done"</button>
                    </div>
                }.into_any(),
                error => {
                    let error = error.and_then(Result::err).map(|e| e.to_string());
                    view! {
                        <form on:submit=move |ev| { ev.prevent_default(); run.dispatch(mode.get_untracked()); }>
                            <fieldset>
                                <legend>"How should they get a new password?"</legend>
                                <label class="radio">
                                    <input node_ref=first type="radio" name="reset-mode" checked=move || mode.get() == ResetMode::Link
                                        on:change=move |_| set_mode.set(ResetMode::Link)/>
                                    "Email a reset link (works once, for 1 hour)"
                                </label>
                                <label class="radio">
                                    <input type="radio" name="reset-mode" checked=move || mode.get() == ResetMode::Temporary
                                        on:change=move |_| set_mode.set(ResetMode::Temporary)/>
                                    "Set a temporary password (shown once, emailed, to be changed at next sign-in)"
                                </label>
                            </fieldset>
                            <p class="hint">"Either way their current password stops working at once and every session ends."</p>
                            <p class="form-error" role="alert">{error}</p>
                            <div class="modal-actions">
                                <button type="button" on:click=move |_| close()>"Cancel"</button>
                                <button type="submit" class="danger-solid" disabled=move || run.pending().get()>
                                    {move || if run.pending().get() { "Resetting…" } else { "Reset password" }}
                                </button>
                            </div>
                        </form>
                    }.into_any()
                }
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_ended_text_counts() {
        assert_eq!(
            sessions_ended_text("Ada", 0),
            "Ada had no open sessions; any new sign-in needs their password."
        );
        assert_eq!(
            sessions_ended_text("Ada", 1),
            "Ada was logged out of 1 session."
        );
        assert_eq!(
            sessions_ended_text("Ada", 3),
            "Ada was logged out of 3 sessions."
        );
    }
}
