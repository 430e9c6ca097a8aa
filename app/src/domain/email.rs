//! The emails Roster sends to managed users, in their language (English, German,
//! French and Spanish; any other language falls back to English).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmailKind {
    /// A link (valid 7 days) to set a first password.
    Invitation,
    /// A single-use link (valid 1 hour) to set a new password.
    PasswordReset,
    /// A temporary password, to be changed at the next sign-in.
    TemporaryPassword,
}

impl EmailKind {
    /// The `outbox.kind` value.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::Invitation => "invitation",
            EmailKind::PasswordReset => "password_reset",
            EmailKind::TemporaryPassword => "temporary_password",
        }
    }
}

/// The languages with their own templates.
pub const EMAIL_LANGUAGES: [&str; 4] = ["en", "de", "fr", "es"];

/// The template language for a user's language tag (`de-AT` → `de`, `sv` → `en`).
pub fn template_language(language: &str) -> &'static str {
    let primary = language
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_lowercase();
    EMAIL_LANGUAGES
        .into_iter()
        .find(|l| *l == primary)
        .unwrap_or("en")
}

/// Subject and plain-text body. `secret` is the link (invitation, reset) or the
/// temporary password.
pub fn render(kind: EmailKind, language: &str, name: &str, secret: &str) -> (String, String) {
    let (subject, greeting, text, closing) = match (kind, template_language(language)) {
        (EmailKind::Invitation, "de") => (
            "Ihre Einladung",
            "Hallo",
            "Sie wurden eingeladen. Legen Sie hier Ihr Passwort fest (der Link gilt 7 Tage):",
            "Wenn Sie diese Einladung nicht erwartet haben, ignorieren Sie diese E-Mail.",
        ),
        (EmailKind::Invitation, "fr") => (
            "Votre invitation",
            "Bonjour",
            "Vous avez été invité. Choisissez votre mot de passe ici (lien valable 7 jours) :",
            "Si vous n'attendiez pas cette invitation, ignorez ce message.",
        ),
        (EmailKind::Invitation, "es") => (
            "Su invitación",
            "Hola",
            "Le han invitado. Elija su contraseña aquí (el enlace vale 7 días):",
            "Si no esperaba esta invitación, ignore este mensaje.",
        ),
        (EmailKind::Invitation, _) => (
            "Your invitation",
            "Hello",
            "You have been invited. Set your password here (the link is valid for 7 days):",
            "If you did not expect this invitation, ignore this email.",
        ),
        (EmailKind::PasswordReset, "de") => (
            "Passwort zurücksetzen",
            "Hallo",
            "Ihr Passwort wurde zurückgesetzt. Legen Sie hier ein neues fest (der Link gilt 1 Stunde und nur einmal):",
            "Ihr altes Passwort funktioniert nicht mehr.",
        ),
        (EmailKind::PasswordReset, "fr") => (
            "Réinitialisation du mot de passe",
            "Bonjour",
            "Votre mot de passe a été réinitialisé. Choisissez-en un nouveau ici (lien valable 1 heure, une seule fois) :",
            "Votre ancien mot de passe ne fonctionne plus.",
        ),
        (EmailKind::PasswordReset, "es") => (
            "Restablecer la contraseña",
            "Hola",
            "Su contraseña se ha restablecido. Elija una nueva aquí (el enlace vale 1 hora y una sola vez):",
            "Su contraseña anterior ya no funciona.",
        ),
        (EmailKind::PasswordReset, _) => (
            "Reset your password",
            "Hello",
            "Your password was reset. Set a new one here (the link works once, for 1 hour):",
            "Your old password no longer works.",
        ),
        (EmailKind::TemporaryPassword, "de") => (
            "Ihr vorläufiges Passwort",
            "Hallo",
            "Ihr vorläufiges Passwort lautet:",
            "Sie müssen es bei der nächsten Anmeldung ändern.",
        ),
        (EmailKind::TemporaryPassword, "fr") => (
            "Votre mot de passe temporaire",
            "Bonjour",
            "Votre mot de passe temporaire est :",
            "Vous devrez le changer à votre prochaine connexion.",
        ),
        (EmailKind::TemporaryPassword, "es") => (
            "Su contraseña temporal",
            "Hola",
            "Su contraseña temporal es:",
            "Deberá cambiarla en su próximo inicio de sesión.",
        ),
        (EmailKind::TemporaryPassword, _) => (
            "Your temporary password",
            "Hello",
            "Your temporary password is:",
            "You must change it when you next sign in.",
        ),
    };
    let body = format!("{greeting} {name},\n\n{text}\n\n{secret}\n\n{closing}\n");
    (subject.to_string(), body)
}

/// The body of an email carrying a secret, with the secret (the paragraph `render`
/// puts it in) replaced by a note: what admins who may not act on the recipient see.
pub fn redact_secret(kind: &str, body: &str) -> String {
    let note = if kind == EmailKind::TemporaryPassword.as_str() {
        "[A temporary password was sent. It is shown only to admins who may act on this user.]"
    } else {
        "[A link was sent. It is shown only to admins who may act on this user.]"
    };
    let mut parts: Vec<&str> = body.split("\n\n").collect();
    if parts.len() >= 4 {
        parts[2] = note;
        parts.join("\n\n")
    } else {
        note.to_string()
    }
}

/// Whether an email of `kind` (`outbox.kind`) carries a secret.
pub fn carries_secret(kind: &str) -> bool {
    [
        EmailKind::Invitation,
        EmailKind::PasswordReset,
        EmailKind::TemporaryPassword,
    ]
    .iter()
    .any(|k| k.as_str() == kind)
}

/// How an admin resets a password.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResetMode {
    /// Email a single-use link (1 hour).
    Link,
    /// Set a temporary password, shown once to the admin and emailed; it must be
    /// changed at the next sign-in.
    Temporary,
}

/// An email waiting in (or sent from) the outbox, for the Outbox page and tests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEmail {
    pub id: i64,
    pub to: String,
    pub kind: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the mail server refused it for good (it is not tried again).
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_fall_back_to_english() {
        let cases = [
            ("de", "de"),
            ("de-AT", "de"),
            ("FR", "fr"),
            ("es_MX", "es"),
            ("sv", "en"),
            ("", "en"),
        ];
        for (tag, want) in cases {
            assert_eq!(template_language(tag), want, "{tag}");
        }
    }

    #[test]
    fn every_email_names_the_user_and_carries_its_secret_in_each_language() {
        let kinds = [
            EmailKind::Invitation,
            EmailKind::PasswordReset,
            EmailKind::TemporaryPassword,
        ];
        for kind in kinds {
            let mut subjects = std::collections::HashSet::new();
            for lang in EMAIL_LANGUAGES {
                let (subject, body) = render(kind, lang, "Ada", "SECRET-123");
                assert!(
                    body.contains("Ada") && body.contains("\n\nSECRET-123\n\n"),
                    "{kind:?} {lang}"
                );
                subjects.insert(subject);
            }
            assert_eq!(subjects.len(), 4, "{kind:?}: a subject per language");
        }
        assert_eq!(
            render(EmailKind::Invitation, "nl", "Ada", "x").0,
            render(EmailKind::Invitation, "en", "Ada", "x").0
        );
    }

    #[test]
    fn redacting_keeps_the_text_and_hides_only_the_secret() {
        for kind in [
            EmailKind::Invitation,
            EmailKind::PasswordReset,
            EmailKind::TemporaryPassword,
        ] {
            for language in EMAIL_LANGUAGES {
                let secret = "https://roster.example/account/set-password?token=SECRET123";
                let (_, body) = render(kind, language, "Ada Lovelace", secret);
                let hidden = redact_secret(kind.as_str(), &body);
                assert!(
                    !hidden.contains("SECRET123"),
                    "{kind:?} {language}: {hidden}"
                );
                assert!(hidden.contains("Ada Lovelace"), "{kind:?} {language}");
                assert!(
                    hidden.contains("shown only to admins"),
                    "{kind:?} {language}"
                );
                assert!(carries_secret(kind.as_str()));
            }
        }
        assert_eq!(
            redact_secret("invitation", "odd SECRET"),
            "[A link was sent. It is shown only to admins who may act on this user.]"
        );
    }
}
