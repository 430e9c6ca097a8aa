//! Reusable pieces of the users page.

pub mod account_actions;
pub mod bulk_bar;
pub mod bulk_jobs;
pub mod changes;
pub mod chip_picker;
pub mod column_chooser;
pub mod copy;
pub mod export_menu;
pub mod field_filters;
pub mod format;
pub mod keyboard;
pub mod new_user;
pub mod notices;
pub mod pagination;
pub mod reminders;
pub mod row_menu;
pub mod signed_in;
pub mod timeline;
pub mod user_drawer;
pub mod user_filters;
pub mod user_panel;
pub mod users_table;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::domain::fields::FieldDef;
use crate::domain::{Column, UserQuery};

/// Sends an admin signed in with a temporary password to the page where they change
/// it, then back to where they were.
#[component]
pub fn PasswordFirst() -> impl IntoView {
    let location = use_location();
    let here = format!(
        "{}{}",
        location.pathname.get_untracked(),
        search_suffix(&location.search.get_untracked())
    );
    view! { <leptos_router::components::Redirect path=crate::api::auth::password_page(&here)/> }
}

/// `?query` for a location's search text (which may or may not start with `?`).
pub fn search_suffix(search: &str) -> String {
    let s = search.trim_start_matches('?');
    if s.is_empty() {
        String::new()
    } else {
        format!("?{s}")
    }
}

/// Columns hidden in the current view: the URL's choice, else the admin's saved one.
#[derive(Clone, Copy)]
pub struct HiddenColumns(pub Signal<Vec<Column>>);

/// The active custom profile fields, in order (empty until loaded).
#[derive(Clone, Copy)]
pub struct FieldDefs(pub Signal<Vec<FieldDef>>);

/// The custom fields shown as columns in the current view (active ones only, in the
/// order chosen): the URL's choice, else the admin's saved one.
#[derive(Clone, Copy)]
pub struct FieldColumns(pub Signal<Vec<FieldDef>>);

/// The table state, read from the URL.
pub fn use_user_query() -> Memo<UserQuery> {
    let location = use_location();
    Memo::new(move |_| UserQuery::from_query_string(&location.search.get()))
}

/// A `Copy` handle for moving around the users page, so event handlers stay `Fn`.
#[derive(Clone, Copy)]
pub struct Go(StoredValue<Navigate>);

type Navigate = Box<dyn Fn(&str, bool) + Send + Sync>;

impl Go {
    /// Shows the users table for `query`. `replace` keeps typing out of the history.
    pub fn to(&self, query: UserQuery, replace: bool) {
        self.path(&query.href(), replace);
    }

    /// Goes to any path on this site.
    pub fn path(&self, href: &str, replace: bool) {
        self.0.with_value(|navigate| navigate(href, replace));
    }
}

pub fn use_go() -> Go {
    let navigate = use_navigate();
    Go(StoredValue::new(Box::new(
        move |href: &str, replace: bool| {
            navigate(
                href,
                NavigateOptions {
                    replace,
                    scroll: false,
                    ..Default::default()
                },
            )
        },
    )))
}

/// For a popover's wrapper: closes it when focus moves outside the wrapper (a click
/// elsewhere, Tab past the end).
/// The value of an `<input>` from its input event; for a date input the browser holds
/// as unfinished or impossible (its value is then ""), [`UNFINISHED_DATE`], so saving
/// refuses it by name instead of clearing the stored date.
///
/// [`UNFINISHED_DATE`]: crate::domain::fields::UNFINISHED_DATE
pub fn input_value(ev: &leptos::ev::Event) -> String {
    use wasm_bindgen::JsCast;
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return event_target_value(ev);
    };
    if input.type_() == "date" && input.validity().bad_input() {
        crate::domain::fields::UNFINISHED_DATE.to_string()
    } else {
        input.value()
    }
}

/// What a date input shows for `value`: [`UNFINISHED_DATE`] leaves the input as typed.
///
/// [`UNFINISHED_DATE`]: crate::domain::fields::UNFINISHED_DATE
pub fn shown_date(value: impl Fn() -> String + Send + Sync + 'static) -> Memo<String> {
    Memo::new(move |previous: Option<&String>| {
        let v = value();
        if v == crate::domain::fields::UNFINISHED_DATE {
            previous.cloned().unwrap_or_default()
        } else {
            v
        }
    })
}

pub fn close_when_focus_leaves(ev: &leptos::ev::FocusEvent, set_open: WriteSignal<bool>) {
    use wasm_bindgen::JsCast;
    let Some(wrapper) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
    else {
        return;
    };
    let next = ev
        .related_target()
        .and_then(|t| t.dyn_into::<web_sys::Node>().ok());
    if !next.is_some_and(|n| wrapper.contains(Some(&n))) {
        set_open.set(false);
    }
}

/// State shared by everything on the users page: who is signed in, which rows are
/// checked, the notices shown, and a counter that makes the table and the drawer
/// fetch again after a command changed users.
#[derive(Clone, Copy)]
pub struct UsersCtx {
    pub me: StoredValue<crate::domain::AdminInfo>,
    /// Bumped after every successful command.
    pub revision: RwSignal<u64>,
    pub selected: RwSignal<std::collections::BTreeSet<i64>>,
    /// "Select all N matching": the bulk bar applies to the whole filter.
    pub all_matching: RwSignal<bool>,
    pub notices: RwSignal<Vec<notices::Notice>>,
    /// The "New user" dialog is open.
    pub creating: RwSignal<bool>,
    /// A delete, or a status change of several users, waiting for confirmation.
    pub confirm: RwSignal<Option<row_menu::Confirm>>,
    /// Bumped after an Undo: the open drawer fetches its user again (it does not
    /// follow `revision`, so that an edit in progress is not replaced under the admin).
    pub undone: RwSignal<u64>,
    /// The keyboard help is open.
    pub help: RwSignal<bool>,
    /// The "Reset password" dialog is open for this user.
    pub reset: RwSignal<Option<account_actions::ResetTarget>>,
    /// Bulk actions going on in the background.
    pub bulk_jobs: RwSignal<Vec<bulk_jobs::Following>>,
    /// The exact number of users matching a set of filters, counted on request when
    /// the page's own count stopped (see [`crate::domain::user::EXACT_COUNT_UP_TO`]).
    pub counted: RwSignal<Option<Counted>>,
}

/// An exact count of the users matching `filters` (a [`UserQuery::filters_only`]), as
/// of `revision`: a command that changes users makes it stale.
#[derive(Clone, Debug, PartialEq)]
pub struct Counted {
    pub filters: UserQuery,
    pub revision: u64,
    pub n: u64,
}

impl UsersCtx {
    pub fn new(me: crate::domain::AdminInfo) -> Self {
        UsersCtx {
            me: StoredValue::new(me),
            revision: RwSignal::new(0),
            selected: RwSignal::new(Default::default()),
            all_matching: RwSignal::new(false),
            notices: RwSignal::new(Vec::new()),
            creating: RwSignal::new(false),
            confirm: RwSignal::new(None),
            undone: RwSignal::new(0),
            help: RwSignal::new(false),
            reset: RwSignal::new(None),
            bulk_jobs: RwSignal::new(Vec::new()),
            counted: RwSignal::new(None),
        }
    }

    /// Whether the signed-in admin's role grants `permission` (the server checks again).
    pub fn can(&self, permission: &str) -> bool {
        self.me.with_value(|me| me.can(permission))
    }

    /// The table and the drawer fetch again.
    pub fn changed(&self) {
        self.revision.update(|r| *r += 1);
    }

    pub fn notify(&self, text: impl Into<String>) {
        notices::push(self.notices, notices::Notice::info(text));
    }

    pub fn alert(&self, text: impl Into<String>) {
        notices::push(self.notices, notices::Notice::error(text));
    }
}

pub fn use_users_ctx() -> UsersCtx {
    expect_context::<UsersCtx>()
}

/// False on the server and while hydrating, true once this component is live in the
/// browser. Browser-only data (`LocalResource`) is read only when this is true: a
/// LocalResource never resolves on the server, and reading it there would hold the
/// surrounding Suspense (and the whole server-rendered page) at its fallback.
pub fn use_live() -> ReadSignal<bool> {
    let (live, set_live) = signal(false);
    Effect::new(move |_| set_live.set(true));
    live
}
