//! The bar above the table while rows are checked: how many, "select all N
//! matching", and one action applied to the whole selection on the server.

use leptos::prelude::*;

use super::row_menu::Confirm;
use super::{format, use_user_query, use_users_ctx};
use crate::api::lifecycle::{bulk_users, list_groups, list_roles};
use crate::api::users::list_tags;
use crate::domain::permissions::{USERS_DELETE, USERS_WRITE};
use crate::domain::{BulkAction, Selection, Status};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Choice {
    Activate,
    Ban,
    AddTag,
    RemoveTag,
    AddGroup,
    RemoveGroup,
    SetRole,
    Delete,
}

impl Choice {
    const ALL: [Choice; 8] = [
        Choice::Activate,
        Choice::Ban,
        Choice::AddTag,
        Choice::RemoveTag,
        Choice::AddGroup,
        Choice::RemoveGroup,
        Choice::SetRole,
        Choice::Delete,
    ];
    fn key(self) -> &'static str {
        match self {
            Choice::Activate => "activate",
            Choice::Ban => "ban",
            Choice::AddTag => "add_tag",
            Choice::RemoveTag => "remove_tag",
            Choice::AddGroup => "add_group",
            Choice::RemoveGroup => "remove_group",
            Choice::SetRole => "set_role",
            Choice::Delete => "delete",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Choice::Activate => "Set status: Active",
            Choice::Ban => "Set status: Banned",
            Choice::AddTag => "Add tag…",
            Choice::RemoveTag => "Remove tag…",
            Choice::AddGroup => "Add to group…",
            Choice::RemoveGroup => "Remove from group…",
            Choice::SetRole => "Set role…",
            Choice::Delete => "Delete…",
        }
    }
    fn parse(s: &str) -> Option<Choice> {
        Choice::ALL.into_iter().find(|c| c.key() == s)
    }
    fn needs_name(self) -> Option<&'static str> {
        match self {
            Choice::AddTag | Choice::RemoveTag => Some("Tag name"),
            Choice::AddGroup | Choice::RemoveGroup => Some("Group name"),
            _ => None,
        }
    }
}

#[component]
pub fn BulkBar(
    /// Users matching the current filters, when counted exactly.
    known: Signal<Option<u64>>,
    /// Otherwise more than this many match.
    at_least: u64,
    /// An exact count is under way.
    counting: RwSignal<bool>,
    /// Counts the matching users exactly (`true`: again, even if a count is known).
    count_all: Callback<bool>,
    /// Ids of the rows on this page.
    page_ids: Vec<i64>,
) -> impl IntoView {
    let ctx = use_users_ctx();
    let count = Memo::new(move |_| {
        if ctx.all_matching.get() {
            known.get().unwrap_or(at_least)
        } else {
            ctx.selected.read().len() as u64
        }
    });
    // Everyone matching is selected but not yet counted: nothing is applied (or
    // confirmed with a number) before the count is in.
    let uncounted = Signal::derive(move || ctx.all_matching.get() && known.get().is_none());
    let page_count = page_ids.len();
    // Offered once the whole page is checked and more users match.
    let offer_all = move || {
        !ctx.all_matching.get()
            && known.get().is_none_or(|n| n > page_count as u64)
            && ctx.selected.read().len() >= page_count
    };
    let select_all = move |_| {
        ctx.all_matching.set(true);
        count_all.run(true);
    };
    let selected_text = move || {
        if uncounted.get() {
            if counting.get() {
                format!("More than {} selected · counting…", format::count(at_least))
            } else {
                format!("More than {} selected", format::count(at_least))
            }
        } else {
            format!("{} selected", format::count(count.get()))
        }
    };
    let clear = move |_| {
        ctx.selected.set(Default::default());
        ctx.all_matching.set(false);
    };
    let can_act = ctx.can(USERS_WRITE) || ctx.can(USERS_DELETE);
    view! {
        <Show when=move || { count.get() > 0 }>
            <section class="bulk-bar" aria-label="Selection">
                <strong role="status">{selected_text}</strong>
                <Show when=move || { offer_all() }>
                    <button type="button" class="link" on:click=select_all>
                        {move || match known.get() {
                            Some(n) => format!("Select all {} matching", format::count(n)),
                            None => format!("Select all matching (more than {})", format::count(at_least)),
                        }}
                    </button>
                </Show>
                <Show when=move || ctx.all_matching.get()>
                    <span class="muted">"All users matching the filters"</span>
                </Show>
                <button type="button" class="ghost" on:click=clear>"Clear selection"</button>
                {can_act.then(|| view! { <BulkForm count uncounted/> })}
            </section>
        </Show>
    }
}

/// The action picker and its inputs; loads tags, groups and roles only when shown.
#[component]
fn BulkForm(count: Memo<u64>, uncounted: Signal<bool>) -> impl IntoView {
    let ctx = use_users_ctx();
    let query = use_user_query();
    let (choice, set_choice) = signal(None::<Choice>);
    let (name, set_name) = signal(String::new());
    let (role, set_role) = signal(None::<i64>);
    let (error, set_error) = signal(None::<String>);
    let tags = Resource::new(move || ctx.revision.get(), |_| list_tags());
    let groups = Resource::new(move || ctx.revision.get(), |_| list_groups());
    let roles = Resource::new(|| (), |_| list_roles());
    let selection = move || {
        if ctx.all_matching.get_untracked() {
            Selection::Matching(query.get_untracked().for_fetch())
        } else {
            Selection::Ids(ctx.selected.get_untracked().into_iter().collect())
        }
    };
    // The table (and this form) are drawn again after a change: the outcome is
    // reported from the action itself, not from an effect of a disposed form.
    let run = Action::new(move |(selection, action): &(Selection, BulkAction)| {
        let (selection, action) = (selection.clone(), action.clone());
        let n = count.get_untracked();
        async move {
            match bulk_users(selection, action.clone()).await {
                Ok(r) => super::bulk_jobs::report(ctx, action, n, r),
                Err(e) => {
                    set_error.try_set(Some(e.to_string()));
                }
            }
        }
    });
    let apply = move || {
        if uncounted.get_untracked() {
            return;
        }
        let Some(c) = choice.get_untracked() else {
            set_error.set(Some("Choose an action first.".into()));
            return;
        };
        let n = name.get_untracked().trim().to_string();
        if let (Some(what), true) = (c.needs_name(), n.is_empty()) {
            set_error.set(Some(format!("Enter a {}.", what.to_lowercase())));
            return;
        }
        let action = match c {
            Choice::Activate => BulkAction::SetStatus(Status::Active),
            Choice::Ban => BulkAction::SetStatus(Status::Banned),
            Choice::AddTag => BulkAction::AddTag(n),
            Choice::RemoveTag => BulkAction::RemoveTag(n),
            Choice::AddGroup => BulkAction::AddToGroup(n),
            Choice::RemoveGroup => BulkAction::RemoveFromGroup(n),
            Choice::SetRole => match role.get_untracked() {
                Some(r) => BulkAction::SetRole(r),
                None => {
                    set_error.set(Some("Choose a role.".into()));
                    return;
                }
            },
            Choice::Delete => BulkAction::Delete,
        };
        // Deletes and status changes ask first (and can be undone after).
        if matches!(action, BulkAction::Delete | BulkAction::SetStatus(_)) {
            set_error.set(None);
            ctx.confirm.set(Some(Confirm::Many {
                selection: selection(),
                count: count.get_untracked(),
                action,
            }));
            return;
        }
        set_error.set(None);
        run.dispatch((selection(), action));
    };
    let can_write = ctx.can(USERS_WRITE);
    let can_delete = ctx.can(USERS_DELETE);
    let name_options = move || {
        let names: Vec<String> = match choice.get() {
            Some(Choice::AddTag | Choice::RemoveTag) => tags
                .get()
                .and_then(Result::ok)
                .unwrap_or_default()
                .into_iter()
                .map(|t| t.name)
                .collect(),
            Some(Choice::AddGroup | Choice::RemoveGroup) => groups
                .get()
                .and_then(Result::ok)
                .unwrap_or_default()
                .into_iter()
                .map(|g| g.name)
                .collect(),
            _ => Vec::new(),
        };
        names
            .into_iter()
            .map(|n| view! { <option value=n.clone()></option> })
            .collect_view()
    };
    view! {
        <form class="bulk-form" on:submit=move |ev| { ev.prevent_default(); apply() }>
            <select aria-label="Bulk action" on:change=move |ev| { set_choice.set(Choice::parse(&event_target_value(&ev))); set_error.set(None); }
                prop:value=move || choice.get().map(Choice::key).unwrap_or("")>
                <option value="">"Choose an action…"</option>
                {Choice::ALL.into_iter()
                    .filter(|c| if *c == Choice::Delete { can_delete } else { can_write })
                    .map(|c| view! { <option value=c.key()>{c.label()}</option> })
                    .collect_view()}
            </select>
            <Show when=move || choice.get().and_then(Choice::needs_name).is_some()>
                <input type="text" list="bulk-names" autocomplete="off"
                    aria-label=move || choice.get().and_then(Choice::needs_name).unwrap_or("Name")
                    prop:value=move || name.get() on:input=move |ev| set_name.set(event_target_value(&ev))/>
                <datalist id="bulk-names">{name_options}</datalist>
            </Show>
            <Show when=move || choice.get() == Some(Choice::SetRole)>
                <select aria-label="Role" on:change=move |ev| set_role.set(event_target_value(&ev).parse().ok())>
                    <option value="">"Choose a role…"</option>
                    {move || roles.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|r| view! {
                        <option value=r.id.to_string()>{r.name}</option>
                    }).collect_view()}
                </select>
            </Show>
            <button type="submit" class="primary" disabled=move || run.pending().get() || uncounted.get()>
                {move || if run.pending().get() { "Applying…" } else if uncounted.get() { "Counting…" } else { "Apply" }}
            </button>
            <p class="form-error" role="alert">{move || error.get()}</p>
        </form>
    }
}
