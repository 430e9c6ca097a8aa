//! The users table with sortable headers, row navigation, paging and its loading,
//! empty and error states.

use leptos::prelude::*;

use super::bulk_bar::BulkBar;
use super::format;
use super::pagination::Pagination;
use super::row_menu::{RowMenu, StatusCell, TagsCell};
use super::{use_go, use_user_query, use_users_ctx, Counted};
use crate::api::users::{count_users, list_users};
use crate::components::{FieldColumns, HiddenColumns};
use crate::domain::fields::{FieldDef, FieldKind};
use crate::domain::user::{format_balance, total_text};
use crate::domain::{AppError, Column, SortDir, SortKey, UserPage, UserQuery, UserRow};

#[component]
pub fn UsersTable() -> impl IntoView {
    let query = use_user_query();
    let ctx = use_users_ctx();
    let fetch_key = Memo::new(move |_| query.get().for_fetch());
    // Other filters mean other users: the selection starts afresh (paging and sorting
    // keep it, so rows can be checked across pages).
    Effect::new(move |prev: Option<UserQuery>| {
        let filters = fetch_key.get().filters_only();
        if prev.is_some_and(|p| p != filters) {
            ctx.selected.set(Default::default());
            ctx.all_matching.set(false);
        }
        filters
    });
    // The resource answers with the query it was fetched for, so the table can tell
    // when the rows shown are older than the URL (the "updating" state). A command
    // that changed users bumps `revision`, and the page is fetched again.
    let page = Resource::new(
        move || (fetch_key.get(), ctx.revision.get()),
        |(q, _): (UserQuery, u64)| async move {
            let result = list_users(q.clone()).await;
            (q, result)
        },
    );
    let HiddenColumns(hidden) = expect_context::<HiddenColumns>();
    let visible = Memo::new(move |_| {
        let hidden = hidden.get();
        Column::ALL
            .into_iter()
            .filter(|c| !hidden.contains(c))
            .collect::<Vec<_>>()
    });
    let FieldColumns(field_columns) = expect_context::<FieldColumns>();

    view! {
        <div class="table-region">
            <Transition fallback=move || view! { <TableSkeleton columns=visible.get_untracked().len() + field_columns.get_untracked().len()/> }>
                <ErrorBoundary fallback=move |errors| {
                    let message = move || errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default();
                    view! {
                        <div class="state error" role="alert">
                            <p><strong>"The users could not be loaded."</strong></p>
                            <p>{message}</p>
                            <button type="button" on:click=move |_| page.refetch()>"Try again"</button>
                        </div>
                    }
                }>
                    {move || Suspend::new(async move {
                        let (shown, result): (UserQuery, Result<UserPage, AppError>) = page.await;
                        let filters = shown.filters_only();
                        let pending = Signal::derive(move || fetch_key.get() != shown);
                        result.map(|data| view! { <TableBody data filters visible field_columns pending/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

#[component]
fn TableBody(
    data: UserPage,
    /// What chose the rows shown (their query's [`UserQuery::filters_only`]).
    filters: UserQuery,
    visible: Memo<Vec<Column>>,
    field_columns: Signal<Vec<FieldDef>>,
    pending: Signal<bool>,
) -> impl IntoView {
    let query = use_user_query();
    let ctx = use_users_ctx();
    let page_ids: Vec<i64> = data.rows.iter().map(|r| r.id).collect();
    let all_on_page = {
        let ids = page_ids.clone();
        move || {
            !ids.is_empty()
                && (ctx.all_matching.get()
                    || ctx.selected.with(|s| ids.iter().all(|id| s.contains(id))))
        }
    };
    let toggle_page = {
        let ids = page_ids.clone();
        move |on: bool| {
            ctx.all_matching.set(false);
            ctx.selected.update(|s| {
                for id in &ids {
                    if on {
                        s.insert(*id);
                    } else {
                        s.remove(id);
                    }
                }
            })
        }
    };
    // Shift-click checks the range since the last checked row.
    let last_checked = StoredValue::new(None::<usize>);
    let ids_for_range = StoredValue::new(page_ids.clone());
    let check_row = move |index: usize, id: i64, on: bool, shift: bool| {
        ctx.all_matching.set(false);
        let from = last_checked.get_value().filter(|_| shift);
        ctx.selected.update(|s| {
            let ids = ids_for_range.get_value();
            let range: Vec<i64> = match from {
                Some(f) => ids[f.min(index)..=f.max(index)].to_vec(),
                None => vec![id],
            };
            for rid in range {
                if on {
                    s.insert(rid);
                } else {
                    s.remove(&rid);
                }
            }
        });
        last_checked.set_value(Some(index));
    };
    let go = use_go();
    let total = data.total;
    // The exact total: the page's own, or one counted on request for these filters
    // since the users last changed.
    let exact = data.exact;
    let known = {
        let filters = filters.clone();
        Signal::derive(move || {
            if exact {
                return Some(total);
            }
            let revision = ctx.revision.get();
            // A count of these filters since the users last changed here, and above
            // what this page counted (anything else is stale).
            ctx.counted.with(|c| {
                c.as_ref()
                    .filter(|c| c.filters == filters && c.revision == revision && c.n > total)
                    .map(|c| c.n)
            })
        })
    };
    let counting = RwSignal::new(false);
    // `fresh`: count again even if a count is known (before acting on every match,
    // so the confirmation names the number of users matching now).
    let count_all = Callback::new(move |fresh: bool| {
        if exact || counting.get_untracked() {
            return;
        }
        if known.get_untracked().is_some() {
            if !fresh {
                return;
            }
            ctx.counted.set(None);
        }
        counting.set(true);
        let (filters, revision) = (filters.clone(), ctx.revision.get_untracked());
        leptos::task::spawn_local(async move {
            match count_users(filters.clone()).await {
                Ok(n) => ctx.counted.set(Some(Counted {
                    filters,
                    revision,
                    n,
                })),
                Err(e) => ctx.alert(format!("The users could not be counted: {e}")),
            }
            counting.try_set(false);
        });
    });
    let total_line = move || match known.get() {
        Some(n) => total_text(n, true),
        None => total_text(total, false),
    };
    let rows = data.rows.clone();
    let empty = rows.is_empty();
    let open_user = move |id: i64| {
        let qs = query.get_untracked().to_query_string();
        let href = if qs.is_empty() {
            format!("/users/{id}")
        } else {
            format!("/users/{id}?{qs}")
        };
        go.path(&href, false);
    };
    let filtered = move || query.read().is_filtered();
    let clear = move |_| go.to(query.get_untracked().without_filters(), false);

    // Busy until the rows are live in the browser (hydrated), so nothing is clicked
    // before its handler exists.
    let (live, set_live) = signal(false);
    Effect::new(move |_| set_live.set(true));
    let busy = move || pending.get() || !live.get();
    view! {
        <BulkBar known at_least=total counting count_all page_ids=page_ids.clone()/>
        <div class="total-line">
            <p class="total" role="status" aria-live="polite">
                {total_line}
                <span class="updating" aria-hidden=move || (!pending.get()).to_string()>
                    {move || if pending.get() { " · updating…" } else { "" }}
                </span>
            </p>
            <Show when=move || known.get().is_none()>
                <button type="button" class="link" disabled=move || counting.get()
                    on:click=move |_| count_all.run(false)>
                    {move || if counting.get() { "Counting…" } else { "Count them all" }}
                </button>
            </Show>
        </div>
        <div class="table-scroll">
            <table aria-label="Users" aria-busy=move || busy().to_string()
                aria-rowcount=move || known.get().map_or_else(|| "-1".to_string(), |n| n.to_string())>
                <thead>
                    <tr>
                        <th scope="col" class="select-col">
                            <input type="checkbox" aria-label="Select all on this page"
                                prop:checked=all_on_page.clone()
                                on:change=move |ev| toggle_page(event_target_checked(&ev))/>
                        </th>
                        {move || visible.get().into_iter().map(|c| view! { <HeaderCell column=c/> }).collect_view()}
                        {move || field_columns.get().into_iter().map(|def| view! { <FieldHeaderCell def/> }).collect_view()}
                        <th scope="col" class="actions-col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().enumerate().map(|(index, row)| {
                        let id = row.id;
                        let status = row.status;
                        let name = row.display_name();
                        let label = format!("{} ({})", name, row.email);
                        let row = std::sync::Arc::new(row);
                        let checked = move || ctx.all_matching.get() || ctx.selected.with(|s| s.contains(&id));
                        view! {
                            <tr tabindex="0" class="row-link" id=row_dom_id(id)
                                class:selected=checked
                                aria-label=label
                                on:click=move |_| open_user(id)
                                on:keydown=move |ev| if ev.key() == "Enter" && ev.target() == ev.current_target() { ev.prevent_default(); open_user(id) }>
                                <td class="select-col" on:click=|ev| ev.stop_propagation()>
                                    <input type="checkbox" aria-label=format!("Select {name}")
                                        prop:checked=checked
                                        on:click=move |ev| {
                                            ev.stop_propagation();
                                            check_row(index, id, event_target_checked(&ev), ev.shift_key());
                                        }/>
                                </td>
                                {
                                    let row = row.clone();
                                    move || {
                                        let row = row.clone();
                                        visible.get().into_iter().map(move |c| cell(c, &row)).collect_view()
                                    }
                                }
                                {move || field_columns.get().into_iter().map(|def| {
                                    let text = row.fields.get(&def.key).cloned().unwrap_or_default();
                                    let numeric = def.kind == FieldKind::Number;
                                    let title = text.clone();
                                    view! { <td class="col-field" class:num=numeric title=title>{text}</td> }
                                }).collect_view()}
                                <td class="actions-col"><RowMenu id name=name.clone() status/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <Show when=move || empty>
            <div class="state empty">
                <Show when=filtered fallback=|| view! {
                    <p><strong>"No users yet."</strong></p>
                    <p>"Users you create or import will be listed here."</p>
                }>
                    <p><strong>"No users match these filters."</strong></p>
                    <button type="button" on:click=clear>"Clear filters"</button>
                </Show>
            </div>
        </Show>
        <Pagination total known/>
    }
}

/// The DOM id of a user's row, so the drawer can hand focus back to it.
pub fn row_dom_id(user_id: i64) -> String {
    format!("user-row-{user_id}")
}

fn cell(column: Column, row: &UserRow) -> AnyView {
    // Each cell is named by its column (widths, the pinned name); text that may be
    // cut short to fit keeps its whole value as the cell's title.
    let class = match column {
        Column::Id | Column::Balance | Column::Devices | Column::Tags => {
            format!("col-{} num", column.key())
        }
        _ => format!("col-{}", column.key()),
    };
    let clipped = |text: String| {
        let title = text.clone();
        view! { <td class=class.clone() title=title>{text}</td> }.into_any()
    };
    match column {
        Column::Id => view! { <td class=class>{row.id}</td> }.into_any(),
        Column::Username => clipped(row.username.clone().unwrap_or_default()),
        Column::Name => clipped(row.display_name()),
        Column::Email => clipped(row.email.clone()),
        Column::Phone => view! { <td class=class>{row.phone.clone().unwrap_or_default()}</td> }.into_any(),
        Column::Status => {
            view! { <td class=class><StatusCell id=row.id name=row.display_name() status=row.status/></td> }.into_any()
        }
        Column::Role => clipped(row.role.clone()),
        Column::Balance => view! { <td class=class>{format_balance(row.balance)}</td> }.into_any(),
        Column::Devices => view! { <td class=class>{row.devices}</td> }.into_any(),
        Column::Tags => {
            view! { <td class=class><TagsCell id=row.id name=row.display_name() count=row.tags/></td> }.into_any()
        }
        Column::SignupDate => view! { <td class=class>{format::date(&row.created_at)}</td> }.into_any(),
        Column::LastAccess => {
            // Every time here is UTC: the cell leaves the zone to its title.
            let full = format::opt_date_time(&row.last_access_at);
            let short = full.trim_end_matches(" UTC").to_string();
            view! { <td class=class title=full>{short}</td> }.into_any()
        }
    }
}

#[component]
fn HeaderCell(column: Column) -> impl IntoView {
    let query = use_user_query();
    let go = use_go();
    let keys = column.sort_keys();
    let aria_sort = move || {
        let q = query.read();
        if q.sort_field.is_none() && keys.contains(&q.sort) {
            if q.dir == SortDir::Asc {
                "ascending"
            } else {
                "descending"
            }
        } else {
            "none"
        }
    };
    let name_sorts = column == Column::Name;
    let buttons = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let key = *key;
            // The name is one column sorted two ways: "Name  first · last", each choice
            // named in full for screen readers ("First name").
            let (label, full) = if name_sorts {
                (
                    if key == SortKey::FirstName { "first" } else { "last" },
                    Some(key.label()),
                )
            } else {
                (column.label(), None)
            };
            let arrow = move || {
                let q = query.read();
                match (q.sorted_on(key), q.dir) {
                    (true, SortDir::Asc) => "▲",
                    (true, SortDir::Desc) => "▼",
                    _ => "",
                }
            };
            view! {
                {(name_sorts && i > 0).then(|| view! { <span class="sep" aria-hidden="true">"·"</span> })}
                <button type="button" class="sort" class:active=move || query.read().sorted_on(key)
                    aria-label=full
                    on:click=move |_| go.to(query.get_untracked().sorted_by(key), false)>
                    {label}<span class="arrow" aria-hidden="true">{arrow}</span>
                </button>
            }
        })
        .collect_view();
    let plain = keys.is_empty() || name_sorts;
    view! {
        <th scope="col" aria-sort=aria_sort class=format!("col-{}", column.key())>
            {plain.then(|| view! { <span class="th-label">{column.label()}</span> })}
            {if name_sorts {
                view! { <span class="name-sorts" title="Sort by first or last name">{buttons}</span> }.into_any()
            } else {
                buttons.into_any()
            }}
        </th>
    }
}

/// A custom field's header: its label, sorting by its value.
#[component]
fn FieldHeaderCell(def: FieldDef) -> impl IntoView {
    let query = use_user_query();
    let go = use_go();
    let key = def.key.clone();
    let sorted = {
        let key = key.clone();
        move || {
            let q = query.read();
            (q.sort_field.as_deref() == Some(key.as_str())).then_some(q.dir)
        }
    };
    let aria_sort = {
        let sorted = sorted.clone();
        move || match sorted() {
            Some(SortDir::Asc) => "ascending",
            Some(SortDir::Desc) => "descending",
            None => "none",
        }
    };
    let arrow = {
        let sorted = sorted.clone();
        move || match sorted() {
            Some(SortDir::Asc) => "▲",
            Some(SortDir::Desc) => "▼",
            None => "",
        }
    };
    let active = move || sorted().is_some();
    view! {
        <th scope="col" aria-sort=aria_sort class="col-field">
            <button type="button" class="sort" class:active=active
                on:click=move |_| go.to(query.get_untracked().sorted_by_field(&key), false)>
                {def.label.clone()}<span class="arrow" aria-hidden="true">{arrow}</span>
            </button>
        </th>
    }
}

#[component]
fn TableSkeleton(columns: usize) -> impl IntoView {
    view! {
        <p class="total" role="status">"Loading users…"</p>
        <table aria-label="Users" aria-busy="true" class="skeleton">
            <tbody>
                {(0..8).map(|_| view! {
                    <tr>{(0..columns + 2).map(|_| view! { <td><span class="bone"></span></td> }).collect_view()}</tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
