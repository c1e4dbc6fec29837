//! TXT lookups for verifying organizations' email domains, through `hickory-resolver`: the
//! system's resolvers, or the DNS server `[domains] resolver` names. A fresh resolver per lookup,
//! so an answer is never served from a cache of an earlier one (a record just published counts at
//! once; one just removed no longer does).

use std::{net::SocketAddr, time::Duration};

use hickory_resolver::{
    TokioResolver,
    config::{NameServerConfigGroup, ResolverConfig},
    name_server::TokioConnectionProvider,
};

use crate::{Error, Kind};

fn unavailable(why: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %why, "a TXT lookup failed");
    Error::new(
        Kind::Unavailable,
        "dns_unavailable",
        "The DNS lookup failed. Try again in a moment.",
    )
}

/// The TXT records at `name`, each record's strings joined; none when the name has no TXT record
/// or does not exist.
pub async fn txt_records(server: Option<SocketAddr>, name: &str) -> Result<Vec<String>, Error> {
    let mut builder = match server {
        Some(addr) => TokioResolver::builder_with_config(
            ResolverConfig::from_parts(
                None,
                vec![],
                NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true),
            ),
            TokioConnectionProvider::default(),
        ),
        None => TokioResolver::builder_tokio().map_err(unavailable)?,
    };
    let options = builder.options_mut();
    options.cache_size = 0;
    options.timeout = Duration::from_secs(5);
    options.attempts = 2;
    let resolver = builder.build();
    // Fully qualified: no search domain of the system's configuration is ever appended.
    match resolver.txt_lookup(format!("{name}.")).await {
        Ok(lookup) => Ok(lookup
            .iter()
            .map(|txt| {
                txt.txt_data()
                    .iter()
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect::<String>()
            })
            .collect()),
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
        Err(e) => Err(unavailable(e)),
    }
}
