//! Filters on custom profile fields: a popover with the right control for each
//! field's type (text contains; number and date ranges; choice is / is not; yes/no),
//! and a chip per active filter that names it and removes it.

use leptos::prelude::*;

use super::{use_go, use_user_query};
use crate::components::FieldDefs;
use crate::domain::field_query::FieldCondition;
use crate::domain::fields::{FieldDef, FieldKind};

/// How an active filter reads on its chip, e.g. "Plan is Pro, Team".
pub fn describe(def: &FieldDef, condition: &FieldCondition) -> String {
    let label = &def.label;
    match condition {
        FieldCondition::Contains(t) => format!("{label} contains \"{t}\""),
        FieldCondition::Range {
            from: Some(f),
            to: Some(t),
        } => format!("{label} {f} – {t}"),
        FieldCondition::Range { from: Some(f), .. } => format!("{label} ≥ {f}"),
        FieldCondition::Range { to: Some(t), .. } => format!("{label} ≤ {t}"),
        FieldCondition::Range { .. } => label.clone(),
        FieldCondition::Is(v) => format!("{label} is {}", v.join(", ")),
        FieldCondition::IsNot(v) => format!("{label} is not {}", v.join(", ")),
        FieldCondition::Bool(yes) => format!("{label}: {}", if *yes { "yes" } else { "no" }),
    }
}

#[component]
pub fn FieldFilters() -> impl IntoView {
    let query = use_user_query();
    let go = use_go();
    let FieldDefs(defs) = expect_context::<FieldDefs>();
    let (open, set_open) = signal(false);
    let active = move || {
        let defs = defs.get();
        query
            .read()
            .fields
            .iter()
            .filter_map(|f| {
                let def = defs.iter().find(|d| d.key == f.key)?;
                Some((f.key.clone(), describe(def, &f.condition)))
            })
            .collect::<Vec<_>>()
    };
    let remove =
        move |key: String| go.to(query.get_untracked().with_field_filter(&key, None), false);

    view! {
        <Show when=move || !defs.read().is_empty()>
            <div class="field-filter">
                <ul class="chips" aria-label="Profile field filters">
                    {move || active().into_iter().map(|(key, text)| view! {
                        <li class="chip">{text.clone()}
                            <button type="button" aria-label=format!("Remove filter {text}")
                                on:click=move |_| remove(key.clone())>"×"</button>
                        </li>
                    }).collect_view()}
                </ul>
                <div class="popover-anchor" on:focusout=move |ev| super::close_when_focus_leaves(&ev, set_open)>
                    <button type="button" class="ghost" aria-expanded=move || open.get().to_string()
                        aria-controls="field-filter-options" on:click=move |_| set_open.update(|o| *o = !*o)>
                        "Profile fields"
                    </button>
                    <Show when=move || open.get()>
                        <div id="field-filter-options" class="popover field-filter-options" role="group" aria-label="Profile field filters"
                            on:keydown=move |ev| if ev.key() == "Escape" { ev.stop_propagation(); set_open.set(false) }>
                            {move || defs.get().into_iter().map(|def| view! { <FieldControl def/> }).collect_view()}
                        </div>
                    </Show>
                </div>
            </div>
        </Show>
    }
}

/// One field's filter control; every change goes into the URL (page 1).
#[component]
fn FieldControl(def: FieldDef) -> impl IntoView {
    let query = use_user_query();
    let go = use_go();
    let key = StoredValue::new(def.key.clone());
    let label = def.label.clone();
    let current = move || query.read().field_filter(&key.get_value()).cloned();
    let set = move |condition: Option<FieldCondition>| {
        go.to(
            query
                .get_untracked()
                .with_field_filter(&key.get_value(), condition),
            false,
        )
    };
    match def.kind {
        FieldKind::Text => {
            let value = move || match current() {
                Some(FieldCondition::Contains(t)) => t,
                _ => String::new(),
            };
            view! {
                <label class="field-control">{format!("{label} contains")}
                    <input type="search" autocomplete="off" value=value prop:value=value
                        on:change=move |ev| {
                            let t = event_target_value(&ev);
                            set(FieldCondition::parse(&format!("contains:{t}")))
                        }/>
                </label>
            }
            .into_any()
        }
        FieldKind::Number | FieldKind::Date => {
            let input_type = if def.kind == FieldKind::Date {
                "date"
            } else {
                "number"
            };
            let bounds = move || match current() {
                Some(FieldCondition::Range { from, to }) => (from, to),
                _ => (None, None),
            };
            let from = move || bounds().0.unwrap_or_default();
            let to = move || bounds().1.unwrap_or_default();
            let set_bound = move |which: &'static str, value: String| {
                let (mut f, mut t) = bounds();
                let v = Some(value.trim().to_string()).filter(|v| !v.is_empty());
                if which == "from" {
                    f = v;
                } else {
                    t = v;
                }
                set(Some(FieldCondition::Range { from: f, to: t }))
            };
            view! {
                <div class="field-control range">
                    <label>{format!("{label} from")}
                        <input type=input_type step="any" value=from prop:value=from
                            on:change=move |ev| set_bound("from", event_target_value(&ev))/>
                    </label>
                    <label>"to"
                        <input type=input_type step="any" aria-label=format!("{label} to") value=to prop:value=to
                            on:change=move |ev| set_bound("to", event_target_value(&ev))/>
                    </label>
                </div>
            }
            .into_any()
        }
        FieldKind::Bool => {
            let value = move || match current() {
                Some(FieldCondition::Bool(true)) => "yes",
                Some(FieldCondition::Bool(false)) => "no",
                _ => "",
            };
            view! {
                <label class="field-control">{label.clone()}
                    <select on:change=move |ev| set(FieldCondition::parse(&event_target_value(&ev)))>
                        <option value="" selected=move || value().is_empty()>"Any"</option>
                        <option value="yes" selected=move || value() == "yes">"Yes"</option>
                        <option value="no" selected=move || value() == "no">"No"</option>
                    </select>
                </label>
            }
            .into_any()
        }
        FieldKind::Choice | FieldKind::MultiChoice => {
            let state = move || match current() {
                Some(FieldCondition::IsNot(v)) => (false, v.first().cloned().unwrap_or_default()),
                Some(FieldCondition::Is(v)) => (true, v.first().cloned().unwrap_or_default()),
                _ => (true, String::new()),
            };
            let apply = move |is: bool, choice: String| {
                if choice.is_empty() {
                    set(None)
                } else if is {
                    set(Some(FieldCondition::Is(vec![choice])))
                } else {
                    set(Some(FieldCondition::IsNot(vec![choice])))
                }
            };
            let choices = def.choices.clone();
            view! {
                <div class="field-control choice">
                    <label>{label.clone()}
                        <select aria-label=format!("{label} match")
                            on:change=move |ev| apply(event_target_value(&ev) == "is", state().1)>
                            <option value="is" selected=move || state().0>"is"</option>
                            <option value="not" selected=move || !state().0>"is not"</option>
                        </select>
                    </label>
                    <select aria-label=format!("{label} value")
                        on:change=move |ev| apply(state().0, event_target_value(&ev))>
                        <option value="" selected=move || state().1.is_empty()>"Any"</option>
                        {choices.into_iter().map(|c| {
                            let v = c.clone();
                            view! { <option value=c.clone() selected=move || state().1.eq_ignore_ascii_case(&v)>{c.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
            }
            .into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chips_name_the_field_and_the_condition() {
        let def = |kind| FieldDef {
            id: 1,
            key: "plan".into(),
            label: "Plan".into(),
            kind,
            choices: vec![],
            required: false,
            searchable: true,
            position: 0,
            archived: false,
        };
        let cases = [
            (FieldKind::Choice, "is:Pro,Team", "Plan is Pro, Team"),
            (FieldKind::Choice, "not:Free", "Plan is not Free"),
            (FieldKind::Number, "range:2..10", "Plan 2 – 10"),
            (FieldKind::Number, "range:2..", "Plan ≥ 2"),
            (FieldKind::Date, "range:..2026-01-01", "Plan ≤ 2026-01-01"),
            (FieldKind::Bool, "no", "Plan: no"),
            (FieldKind::Text, "contains:gold", "Plan contains \"gold\""),
        ];
        for (kind, param, want) in cases {
            let c = FieldCondition::parse(param).expect(param);
            assert_eq!(describe(&def(kind), &c), want);
        }
    }
}
