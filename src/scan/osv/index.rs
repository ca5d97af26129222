//! Looking advisories up by package: the [`AdvisoryLookup`] trait every OSV source answers, and
//! [`MemoryIndex`], the in-memory source for `--osv-db PATH` and `--online`.

use super::Advisory;
use crate::scan::ScanError;
use crate::scan::os::EcosystemSpec;
use std::collections::HashMap;
use std::sync::Arc;

/// Where a scan finds advisories. Shared by every host of a fleet scan.
pub trait AdvisoryLookup: Send + Sync {
    /// Advisories with an affected entry for `package` in an ecosystem `spec` accepts.
    fn lookup(&self, spec: &EcosystemSpec, package: &str) -> Result<Vec<Arc<Advisory>>, ScanError>;

    /// When the data was imported; None for data read fresh for this scan.
    fn imported_at(&self) -> Option<time::OffsetDateTime> {
        None
    }
}

/// Advisories indexed by package name.
#[derive(Debug, Default)]
pub struct MemoryIndex {
    by_name: HashMap<String, Vec<Arc<Advisory>>>,
    count: usize,
}

impl MemoryIndex {
    pub fn new(advisories: impl IntoIterator<Item = Advisory>) -> Self {
        let mut index = Self::default();
        for a in advisories {
            index.insert(a);
        }
        index
    }

    pub fn insert(&mut self, advisory: Advisory) {
        let advisory = Arc::new(advisory);
        let mut names: Vec<&str> = advisory
            .affected
            .iter()
            .map(|a| a.package.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            self.by_name
                .entry(name.to_string())
                .or_default()
                .push(advisory.clone());
        }
        self.count += 1;
    }

    /// How many advisories it holds.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl AdvisoryLookup for MemoryIndex {
    fn lookup(&self, spec: &EcosystemSpec, package: &str) -> Result<Vec<Arc<Advisory>>, ScanError> {
        Ok(self
            .by_name
            .get(package)
            .map(|all| {
                all.iter()
                    .filter(|a| {
                        a.affected.iter().any(|x| {
                            x.package.name == package && spec.matches(&x.package.ecosystem)
                        })
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}
