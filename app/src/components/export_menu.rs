//! "Export": the current view (its filters, sort and visible columns) or every user,
//! as CSV or XLSX. The download is a plain link; while the server writes the file the
//! menu shows how far it is.

use leptos::prelude::*;

use super::use_user_query;
use crate::api::transfer::export_progress;
use crate::components::HiddenColumns;
use crate::domain::transfer::Progress;

fn new_token() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        format!("{:016x}", (js_sys::Math::random() * 1e16) as u64)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        String::from("server")
    }
}

#[component]
pub fn ExportMenu() -> impl IntoView {
    let query = use_user_query();
    let HiddenColumns(hidden) = expect_context::<HiddenColumns>();
    let (open, set_open) = signal(false);
    let excel = RwSignal::new(true);
    // The running export's token and its last progress.
    let running = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<Progress>);
    let (finished, set_finished) = signal(String::new());

    let href = move |format: &str, all: bool, token: &str| {
        let mut q = if all {
            "all=1".to_string()
        } else {
            let mut q = query.get_untracked();
            q.hidden = Some(hidden.get_untracked());
            q.to_query_string()
        };
        if format == "csv" && excel.get_untracked() {
            q.push_str("&bom=1");
        }
        format!("/users/export.{format}?{q}&token={token}")
    };
    let start = move |format: &'static str, all: bool| {
        let token = new_token();
        set_finished.set(String::new());
        progress.set(None);
        running.set(Some(token.clone()));
        set_open.set(false);
        let _ = window().location().set_href(&href(format, all, &token));
    };

    // Poll the export's progress while one runs.
    Effect::new(move |_| {
        let Some(token) = running.get() else { return };
        let handle = set_interval_with_handle(
            move || {
                let token = token.clone();
                leptos::task::spawn_local(async move {
                    match export_progress(token.clone()).await {
                        Ok(Some(p)) if p.phase == "Done" => {
                            running.set(None);
                            progress.set(None);
                            set_finished.set("Export ready: the file is in your downloads.".into());
                        }
                        Ok(Some(p)) => progress.set(Some(p)),
                        Ok(None) => {}
                        Err(e) => {
                            running.set(None);
                            set_finished.set(format!("Could not follow the export: {e}"));
                        }
                    }
                });
            },
            std::time::Duration::from_millis(500),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    });

    let item = move |label: &'static str, format: &'static str, all: bool| {
        view! {
            <button type="button" role="menuitem" on:click=move |_| start(format, all)>{label}</button>
        }
    };
    view! {
        <div class="popover-anchor export-menu" on:focusout=move |ev| super::close_when_focus_leaves(&ev, set_open)>
            <button type="button" class="ghost" aria-haspopup="menu" aria-expanded=move || open.get().to_string()
                aria-controls="export-options" on:click=move |_| set_open.update(|o| *o = !*o)>
                "Export"
            </button>
            <Show when=move || open.get()>
                <div id="export-options" class="popover right menu" role="menu" aria-label="Export"
                    on:keydown=move |ev| if ev.key() == "Escape" { ev.stop_propagation(); set_open.set(false) }>
                    {item("Current view as CSV", "csv", false)}
                    {item("Current view as XLSX", "xlsx", false)}
                    {item("All users as CSV", "csv", true)}
                    {item("All users as XLSX", "xlsx", true)}
                    <label class="check">
                        <input type="checkbox" prop:checked=move || excel.get()
                            on:change=move |ev| excel.set(event_target_checked(&ev))/>
                        "Excel-friendly CSV (with BOM)"
                    </label>
                </div>
            </Show>
            <div class="export-status" role="status">
                {move || running.get().map(|_| {
                    let p = progress.get().unwrap_or_default();
                    let text = if p.total == 0 {
                        "Preparing the export…".to_string()
                    } else {
                        format!("{}: {} of {} users", p.phase, p.done, p.total)
                    };
                    view! {
                        <span>{text}</span>
                        <progress max="100" value=p.percent() aria-label="Export progress"></progress>
                    }
                })}
                {move || finished.get()}
            </div>
        </div>
    }
}
