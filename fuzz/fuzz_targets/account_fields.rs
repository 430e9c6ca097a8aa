//! Any text as an email, username or phone number: the parsers never panic, and what
//! they accept is already in its stored form (parsing it again changes nothing), so a
//! value saved once compares equal to the same value typed again.
#![no_main]

use app::domain::account::{Email, Phone, Username};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(email) = Email::parse(text) {
        assert_eq!(Email::parse(email.as_str()).as_ref(), Ok(&email));
        assert!(email.as_str().len() <= 254);
    }
    if let Ok(name) = Username::parse(text) {
        assert_eq!(Username::parse(name.as_str()).as_ref(), Ok(&name));
    }
    if let Ok(phone) = Phone::parse(text) {
        assert_eq!(Phone::parse(phone.as_str()).as_ref(), Ok(&phone));
        assert!(phone.as_str().starts_with('+'));
    }
});
