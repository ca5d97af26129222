//! Version order per package ecosystem: dpkg, RPM (EVR) and apk, each as that distro's own tool
//! sorts versions.

pub mod apk;
pub mod dpkg;
pub mod rpm;

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Which tool's rules order this ecosystem's versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Dpkg,
    Rpm,
    Apk,
}

impl Scheme {
    /// Compare two versions. Never fails: a malformed version sorts as the tool would treat
    /// its characters (dpkg and rpm) or by apk's partial parse.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Scheme::Dpkg => dpkg::compare(a, b),
            Scheme::Rpm => rpm::compare(a, b),
            Scheme::Apk => apk::compare(a, b),
        }
    }
}
