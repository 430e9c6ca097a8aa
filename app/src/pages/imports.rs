//! The Imports pages: upload a CSV or XLSX file (with the templates to start from)
//! and the past imports at `/imports`; one import's preview, progress, apply buttons
//! and report at `/imports/:id`.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::transfer::{apply_import, get_import, list_imports};
use crate::components::signed_in::{SignedIn, TopBar};
use crate::components::{format, use_live};
use crate::domain::transfer::{ImportJob, ImportReport, JobState, DEFAULT_MAX_UPLOAD_MB};
use crate::domain::AdminInfo;

#[component]
pub fn ImportsPage() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <Imports me/> }/> }
}

#[component]
fn Imports(me: AdminInfo) -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error").filter(|e| !e.is_empty());
    let live = use_live();
    let jobs = LocalResource::new(list_imports);
    let (file_name, set_file_name) = signal(String::new());
    let (uploading, set_uploading) = signal(false);
    let (dragging, set_dragging) = signal(false);
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        set_dragging.set(false);
        let Some(files) = ev.data_transfer().and_then(|d| d.files()) else {
            return;
        };
        if let Some(input) = document()
            .get_element_by_id("import-file")
            .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(e).ok())
        {
            if let Some(f) = files.get(0) {
                set_file_name.set(f.name());
            }
            input.set_files(Some(&files));
        }
    };
    view! {
        <div class="app">
            <TopBar me current="imports" inert=Signal::derive(|| false)/>
            <main class="users-main narrow">
                <div class="page-head"><h1>"Import users"</h1></div>
                <section class="card" aria-labelledby="upload-title">
                    <h2 id="upload-title">"Upload a file"</h2>
                    <p class="muted">
                        "CSV or XLSX, up to " {DEFAULT_MAX_UPLOAD_MB} " MB unless your operator set another limit. "
                        "Rows are matched to users by email: existing users are updated, the others created; nobody is deleted. "
                        "You will see exactly what will change before anything is written."
                    </p>
                    <p class="template-links">
                        "Start from a template: "
                        <a href="/imports/template.csv" download>"CSV template"</a>
                        " · "
                        <a href="/imports/template.xlsx" download>"XLSX template (with column guide)"</a>
                    </p>
                    {move || error().map(|e| view! { <p class="state error" role="alert">{e}</p> })}
                    <form method="post" action="/imports/upload" enctype="multipart/form-data"
                        on:submit=move |_| set_uploading.set(true)>
                        <label for="import-file" class=move || if dragging.get() { "dropzone dragging" } else { "dropzone" }
                            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); set_dragging.set(true); }
                            on:dragleave=move |_| set_dragging.set(false)
                            on:drop=on_drop>
                            <span class="dropzone-title">"Choose a CSV or XLSX file"</span>
                            <span class="muted">" or drop it here"</span>
                            <span class="dropzone-file">{move || file_name.get()}</span>
                        </label>
                        <input id="import-file" name="file" type="file" required
                            accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            on:change=move |ev| {
                                let name = event_target_value(&ev);
                                set_file_name.set(name.rsplit(['/', '\\']).next().unwrap_or_default().to_string());
                            }/>
                        <button type="submit" class="primary" disabled=move || uploading.get()>
                            {move || if uploading.get() { "Uploading…" } else { "Upload and check" }}
                        </button>
                    </form>
                </section>
                <section aria-labelledby="past-title">
                    <h2 id="past-title">"Past imports"</h2>
                    {move || {
                        if !live.get() {
                            return view! { <p role="status" aria-busy="true">"Loading imports…"</p> }.into_any();
                        }
                        match jobs.get() {
                            None => view! { <p role="status" aria-busy="true">"Loading imports…"</p> }.into_any(),
                            Some(Err(e)) => view! { <div class="state error" role="alert"><p>{e.to_string()}</p></div> }.into_any(),
                            Some(Ok(list)) if list.is_empty() => view! {
                                <div class="state empty"><p><strong>"No imports yet."</strong></p>
                                <p>"Upload a file above; its preview appears here."</p></div>
                            }.into_any(),
                            Some(Ok(list)) => view! { <JobsTable list/> }.into_any(),
                        }
                    }}
                </section>
            </main>
        </div>
    }
}

#[component]
fn JobsTable(list: Vec<ImportJob>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table aria-label="Past imports">
                <thead><tr>
                    <th scope="col">"File"</th><th scope="col">"State"</th>
                    <th scope="col" class="num">"Rows"</th><th scope="col" class="num">"Created"</th>
                    <th scope="col" class="num">"Updated"</th><th scope="col" class="num">"Rejected"</th>
                    <th scope="col">"By"</th><th scope="col">"Uploaded"</th>
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|j| {
                        let r = j.report.clone().unwrap_or_default();
                        view! {
                            <tr>
                                <td><a href=format!("/imports/{}", j.id)>{j.file_name.clone()}</a></td>
                                <td><span class=format!("job-state job-{}", j.state.as_db())>{j.state.label()}</span></td>
                                <td class="num">{r.rows}</td><td class="num">{r.created}</td>
                                <td class="num">{r.updated}</td><td class="num">{r.rejected}</td>
                                <td>{j.actor_email.clone().unwrap_or_default()}</td>
                                <td>{format::date_time(&j.created_at)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn ImportJobPage() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <ImportJobView me/> }/> }
}

#[component]
fn ImportJobView(me: AdminInfo) -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let live = use_live();
    let tick = RwSignal::new(0u64);
    let job = LocalResource::new(move || {
        tick.track();
        get_import(id())
    });
    let running = move || {
        job.get()
            .and_then(Result::ok)
            .is_some_and(|j| j.state.running())
    };
    // Poll while the preview or the apply runs.
    Effect::new(move |_| {
        if !running() {
            return;
        }
        if let Ok(handle) = set_timeout_with_handle(
            move || tick.update(|t| *t += 1),
            std::time::Duration::from_millis(500),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let pending = RwSignal::new(false);
    let apply_error = RwSignal::new(None::<String>);
    let apply = Callback::new(move |skip: bool| {
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        apply_error.set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = apply_import(id(), skip).await {
                apply_error.set(Some(e.summary()));
            }
            pending.set(false);
            tick.update(|t| *t += 1);
        });
    });
    view! {
        <div class="app">
            <TopBar me current="imports" inert=Signal::derive(|| false)/>
            <main class="users-main narrow">
                <p><a href="/imports">"← All imports"</a></p>
                {move || {
                    if !live.get() {
                        return view! { <p role="status" aria-busy="true">"Loading the import…"</p> }.into_any();
                    }
                    match job.get() {
                        None => view! { <p role="status" aria-busy="true">"Loading the import…"</p> }.into_any(),
                        Some(Err(e)) => view! { <div class="state error" role="alert"><p>{e.to_string()}</p></div> }.into_any(),
                        Some(Ok(j)) => view! { <JobDetail job=j apply pending=pending.into() apply_error=apply_error.into()/> }.into_any(),
                    }
                }}
            </main>
        </div>
    }
}

#[component]
fn JobDetail(
    job: ImportJob,
    apply: Callback<bool>,
    pending: Signal<bool>,
    apply_error: Signal<Option<String>>,
) -> impl IntoView {
    let title = format!("Import of {}", job.file_name);
    let report = job.report.clone().unwrap_or_default();
    let rejected = report.rejected;
    let state = job.state;
    let progress = job.progress.clone().unwrap_or_default();
    view! {
        <div class="page-head"><h1>{title}</h1>
            <span class=format!("job-state job-{}", state.as_db())>{state.label()}</span></div>
        {state.running().then(|| {
            let label = if progress.phase.is_empty() { "Starting".to_string() } else { progress.phase.clone() };
            let detail = if progress.total > 0 { format!("{} of {} rows", progress.done, progress.total) } else { String::new() };
            view! {
                <div class="job-progress" role="status" aria-busy="true">
                    <p>{label}" "{detail}</p>
                    <progress max="100" value=progress.percent() aria-label="Import progress"></progress>
                </div>
            }
        })}
        {job.error.clone().map(|e| view! { <div class="state error" role="alert"><p>{e}</p></div> })}
        {(state == JobState::Applied).then(|| view! {
            <p class="state ok" role="status">
                {format!("Applied{}: {} created, {} updated, {} unchanged.",
                    if job.skipped_invalid && rejected > 0 { format!(", skipping {}", rejected_rows_text(rejected)) } else { String::new() },
                    report.created, report.updated, report.unchanged)}
            </p>
        })}
        {(state == JobState::Previewed).then(|| view! {
            <section class="card apply-card" aria-label="Apply">
                <p>"Nothing has been written yet. This is what applying will do:"</p>
                <div class="apply-buttons">
                    <button type="button" class="primary" disabled=move || { rejected > 0 || pending.get() }
                        on:click=move |_| apply.run(false)>"Apply all"</button>
                    {(rejected > 0).then(|| view! {
                        <button type="button" disabled=move || pending.get()
                            on:click=move |_| apply.run(true)>
                            {format!("Apply, skipping {}", rejected_rows_text(rejected))}
                        </button>
                    })}
                </div>
                {(rejected > 0).then(|| view! {
                    <p class="muted">"\"Apply all\" needs every row to be valid: fix the rejected rows and upload again, or skip them."</p>
                })}
                <p class="field-error" role="alert">{move || apply_error.get()}</p>
            </section>
        })}
        {job.report.clone().filter(|_| !state.running()).map(|r| view! {
            <ReportView report=r job_id=job.id applied=state == JobState::Applied/>
        })}
    }
}

/// The counts and row lists of a preview ("to create") or of what an apply did
/// (`applied`: "created").
#[component]
fn ReportView(report: ImportReport, job_id: i64, applied: bool) -> impl IntoView {
    let ImportReport {
        rows,
        created,
        updated,
        unchanged,
        rejected,
        rejected_rows,
        updated_rows,
        created_rows,
        changed_fields,
        new_tags,
        new_groups,
        ignored_columns,
        read_only_columns,
    } = report;
    let stat = |label: &'static str, n: u64| {
        view! { <div class="stat"><span class="stat-n">{n}</span><span class="stat-label">{label}</span></div> }
    };
    view! {
        <section aria-label="Summary" class="stats">
            {stat("rows", rows)}
            {stat(if applied { "created" } else { "to create" }, created)}
            {stat(if applied { "updated" } else { "to update" }, updated)}
            {stat("unchanged", unchanged)}
            {stat(if applied { "rejected, skipped" } else { "rejected" }, rejected)}
        </section>
        {(!ignored_columns.is_empty()).then(|| view! {
            <p class="muted">"Ignored columns (not known to Roster): " {ignored_columns.join(", ")}</p>
        })}
        {(!read_only_columns.is_empty()).then(|| view! {
            <p class="muted">"Read-only columns, not imported: " {read_only_columns.join(", ")}</p>
        })}
        {(!new_groups.is_empty()).then(|| view! {
            <p>{if applied { "Groups created: " } else { "New groups: " }} {new_groups.join(", ")}</p>
        })}
        {(!new_tags.is_empty()).then(|| view! {
            <p>{if applied { "Tags created: " } else { "New tags: " }} {new_tags.join(", ")}</p>
        })}
        {(!changed_fields.is_empty()).then(|| view! {
            <p>"Changed fields: " {changed_fields.iter().map(|(f, n)| format!("{f} ({n})")).collect::<Vec<_>>().join(", ")}</p>
        })}
        {(!rejected_rows.is_empty()).then(|| view! {
            <section aria-labelledby="rejected-title">
                <div class="section-head">
                    <h2 id="rejected-title">"Rejected rows"</h2>
                    <a href=format!("/imports/{job_id}/rejected") download>"Download rejected rows"</a>
                </div>
                <div class="table-scroll">
                    <table aria-label="Rejected rows">
                        <thead><tr><th scope="col" class="num">"Line"</th><th scope="col">"Email"</th>
                            <th scope="col">"Column"</th><th scope="col">"Reason"</th></tr></thead>
                        <tbody>
                            {rejected_rows.into_iter().take(1000).flat_map(|r| {
                                let line = r.line;
                                let email = r.email.clone();
                                r.errors.into_iter().map(move |e| view! {
                                    <tr><td class="num">{line}</td><td>{email.clone()}</td>
                                        <td>{e.column}</td><td class="wrap">{e.message}</td></tr>
                                }).collect::<Vec<_>>()
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
        })}
        {(!created_rows.is_empty()).then(|| view! {
            <section aria-labelledby="created-title">
                <h2 id="created-title">{if applied { "Created users" } else { "Users to create" }}</h2>
                <div class="table-scroll">
                    <table aria-label=if applied { "Created users" } else { "Users to create" }>
                        <thead><tr><th scope="col" class="num">"Line"</th><th scope="col">"Email"</th>
                            <th scope="col">"Name"</th></tr></thead>
                        <tbody>
                            {created_rows.into_iter().map(|u| view! {
                                <tr><td class="num">{u.line}</td><td>{u.email}</td><td>{u.name}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {(created as usize > crate::domain::transfer::REPORT_CREATED_ROWS).then(|| view! {
                    <p class="muted">{format!("The first {} of {created} users{}.", crate::domain::transfer::REPORT_CREATED_ROWS, if applied { " created" } else { " to create" })}</p>
                })}
            </section>
        })}
        {(!updated_rows.is_empty()).then(|| view! {
            <section aria-labelledby="updated-title">
                <h2 id="updated-title">{if applied { "Updated users" } else { "Users to update" }}</h2>
                <div class="table-scroll">
                    <table aria-label=if applied { "Updated users" } else { "Users to update" }>
                        <thead><tr><th scope="col" class="num">"Line"</th><th scope="col">"Email"</th>
                            <th scope="col">"Name"</th><th scope="col">"Changes"</th></tr></thead>
                        <tbody>
                            {updated_rows.into_iter().map(|u| view! {
                                <tr><td class="num">{u.line}</td><td>{u.email}</td><td>{u.name}</td><td>{u.fields.join(", ")}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {(updated as usize > crate::domain::transfer::REPORT_UPDATED_ROWS).then(|| view! {
                    <p class="muted">{format!("The first {} of {updated} users{}.", crate::domain::transfer::REPORT_UPDATED_ROWS, if applied { " updated" } else { " to update" })}</p>
                })}
            </section>
        })}
    }
}

/// "1 rejected row", "2 rejected rows".
fn rejected_rows_text(n: u64) -> String {
    if n == 1 {
        "1 rejected row".to_string()
    } else {
        format!("{n} rejected rows")
    }
}
