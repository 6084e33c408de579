//! # pare-vuln
//!
//! Known vulnerabilities, offline. This crate starts with what matching
//! stands on: [`version`] ordering for each ecosystem, each a function
//! over `&str` tested against its upstream's own vectors, then the
//! advisories (OSV records, the Debian security tracker), the
//! [`advisories::Advisories`] seam that storage implements, matching a
//! package catalog ([`scan`]), the rules that silence findings
//! ([`ignore`]) and the reports of a scan ([`report`]). [`store`] keeps
//! advisories in an SQLite database that [`update`] fills from osv.dev's
//! exports and the Debian security tracker.

pub mod advisories;
pub mod cvss;
pub mod debian;
pub mod ignore;
pub mod osv;
pub mod report;
pub mod scan;
pub mod store;
pub mod update;
pub mod version;
pub mod yaml_guard;
