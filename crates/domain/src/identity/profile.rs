//! Sign-up and profile fields: email, display name, given and family name, country. Each has a
//! length limit and refuses control characters; the email is parsed by [`Email::parse`].

use super::{FieldError, FieldErrors};
use crate::account::Email;

pub const MAX_NAME: usize = 100;

/// A profile as entered, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileInput {
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub country: String,
}

/// A validated profile: names trimmed, country upper-cased (ISO 3166-1 alpha-2 or empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub country: String,
}

fn name(field: &'static str, label: &str, value: &str, required: bool, errors: &mut FieldErrors) -> String {
    let v = value.trim();
    if required && v.is_empty() {
        errors.push(FieldError::new(field, "required", format!("Enter a {label}.")));
    } else if v.chars().count() > MAX_NAME {
        errors.push(FieldError::new(
            field,
            "too_long",
            format!("The {label} must be at most {MAX_NAME} characters."),
        ));
    } else if v.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "invalid_characters",
            format!("The {label} must not contain control characters."),
        ));
    }
    v.to_owned()
}

/// Validates a profile. The display name is required; the other fields may be empty. When the
/// display name is empty but a given or family name is present, they make up the display name.
pub fn parse_profile(input: &ProfileInput) -> Result<Profile, FieldErrors> {
    let mut errors = Vec::new();
    let given_name = name("given_name", "given name", &input.given_name, false, &mut errors);
    let family_name = name("family_name", "family name", &input.family_name, false, &mut errors);
    let mut display = input.display_name.trim().to_owned();
    if display.is_empty() {
        display = format!("{given_name} {family_name}").trim().to_owned();
    }
    let display_name = name("display_name", "display name", &display, true, &mut errors);
    let country = input.country.trim().to_ascii_uppercase();
    let two_letters = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase());
    if !country.is_empty() && !two_letters {
        errors.push(FieldError::new(
            "country",
            "invalid_country",
            "The country must be a two-letter ISO 3166 code such as DE or US, or left empty.",
        ));
    }
    // Keep the fields in form order: display name first.
    errors.sort_by_key(|e| {
        ["display_name", "given_name", "family_name", "country"]
            .iter()
            .position(|f| *f == e.field)
    });
    if errors.is_empty() {
        Ok(Profile {
            display_name,
            given_name,
            family_name,
            country,
        })
    } else {
        Err(errors)
    }
}

/// Parses an email field with a message written for the form.
pub fn parse_email_field(field: &'static str, value: &str) -> Result<Email, FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "required", "Enter an email address."));
    }
    Email::parse(value).map_err(|e| {
        FieldError::new(
            field,
            "invalid_email",
            format!("Enter a valid email address, like name@example.com ({}).", e.message),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(display: &str, given: &str, family: &str, country: &str) -> ProfileInput {
        ProfileInput {
            display_name: display.into(),
            given_name: given.into(),
            family_name: family.into(),
            country: country.into(),
        }
    }

    #[test]
    fn a_profile_is_trimmed_and_the_country_upper_cased() {
        let p = parse_profile(&input(" Ada ", " Ada ", " Lovelace ", "gb")).unwrap();
        assert_eq!(p.display_name, "Ada");
        assert_eq!(p.family_name, "Lovelace");
        assert_eq!(p.country, "GB");
    }

    #[test]
    fn the_display_name_defaults_to_the_names() {
        assert_eq!(
            parse_profile(&input("", "Ada", "Lovelace", "")).unwrap().display_name,
            "Ada Lovelace"
        );
    }

    #[test]
    fn every_bad_field_is_reported_in_form_order() {
        let long = "x".repeat(MAX_NAME + 1);
        let errs = parse_profile(&input("", "", &long, "Germany")).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| (e.field, e.error.code)).collect();
        assert_eq!(
            fields,
            [
                ("display_name", "too_long"),
                ("family_name", "too_long"),
                ("country", "invalid_country")
            ]
        );
        let errs = parse_profile(&input("", "", "", "")).unwrap_err();
        assert_eq!(errs[0].error.code, "required");
        let errs = parse_profile(&input("a\u{7}b", "", "", "")).unwrap_err();
        assert_eq!(errs[0].error.code, "invalid_characters");
    }

    #[test]
    fn email_fields_say_what_is_wrong() {
        assert_eq!(parse_email_field("email", " ").unwrap_err().error.code, "required");
        assert_eq!(
            parse_email_field("email", "nope").unwrap_err().error.code,
            "invalid_email"
        );
        assert_eq!(parse_email_field("email", "A@B.co").unwrap().as_str(), "a@b.co");
    }
}
