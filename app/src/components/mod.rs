//! Reusable pieces of the users page.

pub mod column_chooser;
pub mod format;
pub mod pagination;
pub mod user_drawer;
pub mod user_filters;
pub mod users_table;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::domain::UserQuery;

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
