//! The settings the application core reads. The `app` crate builds them from its configuration, so
//! neither this crate nor the web crate knows about configuration files.

use ipnet::IpNet;

/// What the use cases and the HTTP surfaces read of the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL without a trailing `/`: the token issuer and the base of absolute links.
    pub public_url: String,
    /// Whether cookies carry the `Secure` attribute (true when `public_url` is https).
    pub secure_cookies: bool,
    /// Whether people may register personal accounts themselves.
    pub signup_enabled: bool,
    /// Suffix of generated organization IDs.
    pub org_id_suffix: String,
    /// Domain of technical accounts (`<hex>@techacct.<domain>`).
    pub technical_account_domain: String,
    pub tokens: TokenLifetimes,
    /// The algorithm of the keys that sign access and ID tokens.
    pub signing_algorithm: gatehouse_domain::token::keys::SigningAlg,
    /// The Adobe-compatible `/ims` surface.
    pub ims: ImsSettings,
    /// Private networks webhook deliveries may reach.
    pub events_allowed_networks: Vec<IpNet>,
    /// Whether this node's configuration runs the dispatcher (`[events] dispatcher`).
    pub events_dispatcher: bool,
    /// Sessions, mail and the other settings of the hosted sign-in.
    pub identity: crate::identity::IdentitySettings,
}

/// The Adobe-compatible surface's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImsSettings {
    /// Bases besides the public URL accepted in `<base>/c/<client_id>` JWT audiences.
    pub accepted_audience_bases: Vec<String>,
    /// The `as` claim of tokens issued on `/ims`.
    pub as_: String,
}

impl Default for ImsSettings {
    fn default() -> Self {
        Self {
            accepted_audience_bases: Vec::new(),
            as_: "ims-na1".to_owned(),
        }
    }
}

/// Token lifetimes in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetimes {
    pub access_token: i64,
    pub refresh_token: i64,
    pub authorization_code: i64,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access_token: 3600,
            refresh_token: 14 * 24 * 3600,
            authorization_code: 60,
        }
    }
}

impl Settings {
    /// Defaults matching `config.default.toml`, for a server reachable at `public_url`.
    pub fn new(public_url: impl Into<String>) -> Self {
        let public_url = public_url.into().trim_end_matches('/').to_owned();
        Self {
            secure_cookies: public_url.starts_with("https://"),
            public_url,
            signup_enabled: true,
            org_id_suffix: "GatehouseOrg".to_owned(),
            technical_account_domain: "gatehouse".to_owned(),
            tokens: TokenLifetimes::default(),
            signing_algorithm: gatehouse_domain::token::keys::SigningAlg::ES256,
            ims: ImsSettings::default(),
            events_allowed_networks: Vec::new(),
            events_dispatcher: true,
            identity: crate::identity::IdentitySettings::default(),
        }
    }

    /// An absolute URL for a path on this server (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}
