//! The admin session cookie: its name, reading it from a request, and the
//! `Set-Cookie` value that sets or clears it. HTTP, so it lives at the edge.

use crate::backend::Config;

/// Name of the admin session cookie over plain HTTP.
pub const SESSION_COOKIE: &str = "roster_session";
/// Its name over HTTPS: the `__Host-` prefix makes browsers refuse it unless it is
/// Secure, for this host only and for every path, so no sibling site can plant one.
pub const SECURE_SESSION_COOKIE: &str = "__Host-roster_session";

/// The session cookie's name under these settings.
pub fn session_cookie_name(config: &Config) -> &'static str {
    if config.secure_cookies {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The session token a request's `Cookie` headers carry, under its one name.
pub fn session_token_in(headers: &axum::http::HeaderMap, config: &Config) -> Option<String> {
    let name = session_cookie_name(config);
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
}

/// The `Set-Cookie` value for the session cookie: `token` for `max_age`, or an empty
/// value that expires at once (sign-out).
pub fn session_cookie(token: Option<&str>, config: &Config) -> String {
    let (value, max_age) = match token {
        Some(t) => (t, config.session_ttl.num_seconds()),
        None => ("", 0),
    };
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let name = session_cookie_name(config);
    format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_strict_httponly_and_clears_with_max_age_zero() {
        let config = Config {
            session_ttl: chrono::Duration::hours(2),
            secure_cookies: true,
            ..Config::default()
        };
        assert_eq!(
            session_cookie(Some("abc"), &config),
            "__Host-roster_session=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=7200; Secure",
            "over HTTPS the __Host- prefix pins the cookie to this host"
        );
        let plain = Config {
            secure_cookies: false,
            ..config
        };
        assert_eq!(
            session_cookie(None, &plain),
            "roster_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
        );
    }
}
