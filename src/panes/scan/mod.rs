//! The scan-results pane: the fleet (each scanned host's latest scan) and one host's findings
//! (sortable, filterable, a detail panel, the history since the previous scan), with the
//! progress of scans running in the background. The app loads its data and runs its scans; the
//! pane asks for them through [`ScanOutcome`].

mod detail;
mod findings;
mod render;

pub use findings::{FixFilter, Query, Row, SortKey, next_min_severity, rows};

use crate::panes::{Outcome, PaneView};
use crate::scan::history::FleetRow;
use crate::scan::report::{ConfigFinding, Finding};
use crate::scan::{HostRecord, OsvStatus, Snapshot, Step};
use crate::ui::input::TextInput;
use crate::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::collections::BTreeMap;

/// Rows moved per mouse-wheel notch.
const WHEEL_ROWS: usize = 3;
/// The size assumed until the app reports the pane's size.
const DEFAULT_SIZE: (u16, u16) = (80, 24);

/// What the app should do after a key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ScanOutcome {
    #[default]
    None,
    /// Load the fleet and, with a name, that host's latest scan ([`ScanPane::loaded`]).
    Load(Option<String>),
    /// Scan this host now, in the background ([`ScanPane::started`], [`ScanPane::progress`],
    /// [`ScanPane::finished`]).
    Scan(String),
    /// Put this text (an upgrade command) on the clipboard.
    Copy(String),
}

/// Which view is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Fleet,
    Host(String),
}

/// The panel under the host view's table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Panel {
    #[default]
    None,
    /// The selected row in full.
    Detail,
    /// New and resolved since the previous scan, and the earlier scans.
    History,
}

/// A host's scan in the background, as last reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Running {
    /// None until the first step is reported.
    pub step: Option<Step>,
}

/// A row of the fleet view: a scanned host, or one being scanned (or that failed) for the
/// first time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FleetLine<'a> {
    pub host: &'a str,
    pub row: Option<&'a FleetRow>,
}

pub struct ScanPane {
    view: View,
    fleet: Vec<FleetRow>,
    /// Hosts the fleet lists even before their first scan (the workspace's, open sessions').
    known: Vec<String>,
    /// None until the first load.
    osv: Option<OsvStatus>,
    /// The host view's data: None while loading or when the host was never scanned.
    record: Option<HostRecord>,
    loading: bool,
    load_error: Option<String>,
    running: BTreeMap<String, Running>,
    /// The last failure of a host's scan (cleared by the next start).
    failed: BTreeMap<String, String>,
    fleet_selected: usize,
    query: Query,
    rows: Vec<Row>,
    selected: usize,
    panel: Panel,
    /// The fleet's host filter, or the host view's text filter.
    filter: TextInput,
    /// Keys go to the filter.
    filtering: bool,
    size: (u16, u16),
    /// The outcome of the last key that came through `PaneView::handle_key`.
    pending: ScanOutcome,
}

impl ScanPane {
    /// A pane on `host`'s findings, or on the fleet; it shows "loading" until
    /// [`ScanPane::loaded`] brings the data.
    pub fn new(host: Option<String>) -> Self {
        Self {
            view: host.map_or(View::Fleet, View::Host),
            fleet: Vec::new(),
            known: Vec::new(),
            osv: None,
            record: None,
            loading: true,
            load_error: None,
            running: BTreeMap::new(),
            failed: BTreeMap::new(),
            fleet_selected: 0,
            query: Query::default(),
            rows: Vec::new(),
            selected: 0,
            panel: Panel::None,
            filter: TextInput::default(),
            filtering: false,
            size: DEFAULT_SIZE,
            pending: ScanOutcome::None,
        }
    }

    pub fn view(&self) -> &View {
        &self.view
    }

    /// The host the host view shows.
    pub fn host(&self) -> Option<&str> {
        match &self.view {
            View::Host(h) => Some(h),
            View::Fleet => None,
        }
    }

    pub fn is_loading(&self) -> bool {
        self.loading
    }

    pub fn is_running(&self, host: &str) -> bool {
        self.running.contains_key(host)
    }

    pub fn running(&self, host: &str) -> Option<&Running> {
        self.running.get(host)
    }

    pub fn record(&self) -> Option<&HostRecord> {
        self.record.as_ref()
    }

    pub fn fleet(&self) -> &[FleetRow] {
        &self.fleet
    }

    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The host view's rows, after the query.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn selected_row(&self) -> Option<Row> {
        self.rows.get(self.selected).copied()
    }

    pub fn panel(&self) -> Panel {
        self.panel
    }

    pub fn filter_text(&self) -> &str {
        self.filter.text()
    }

    /// The outcome of the last key given through `PaneView::handle_key`, once.
    pub fn take_outcome(&mut self) -> ScanOutcome {
        std::mem::take(&mut self.pending)
    }

    /// Hosts to list in the fleet view before their first scan, so `s` can scan them.
    pub fn set_known_hosts(&mut self, hosts: Vec<String>) {
        self.known = hosts;
        self.clamp_fleet();
    }

    /// Show `host` (or the fleet); the app loads its data next.
    pub fn show(&mut self, host: Option<String>) {
        let view = host.map_or(View::Fleet, View::Host);
        if view != self.view {
            self.view = view;
            self.record = None;
            self.selected = 0;
            self.panel = Panel::None;
            self.filter.clear();
            self.query.text.clear();
            self.filtering = false;
            self.rows.clear();
        }
        self.loading = true;
    }

    /// Data the app loaded (for `host`, or the fleet alone).
    pub fn loaded(&mut self, host: Option<&str>, snapshot: Snapshot) {
        self.take_fleet(snapshot.fleet);
        self.osv = Some(snapshot.osv);
        self.load_error = None;
        if host == self.host() {
            self.loading = false;
            self.take_record(snapshot.host);
        } else if host.is_none() && self.host().is_none() {
            self.loading = false;
        }
    }

    /// Loading failed (the scans database cannot be read).
    pub fn load_failed(&mut self, error: String) {
        self.loading = false;
        self.load_error = Some(error);
    }

    /// A scan of `host` was started.
    pub fn started(&mut self, host: &str) {
        self.failed.remove(host);
        self.running.insert(host.to_string(), Running::default());
    }

    /// A running scan reached `step`.
    pub fn progress(&mut self, host: &str, step: Step) {
        self.running
            .insert(host.to_string(), Running { step: Some(step) });
    }

    /// A scan ended: the fresh data, or why the host could not be scanned.
    pub fn finished(&mut self, host: &str, result: Result<Snapshot, String>) {
        self.running.remove(host);
        match result {
            Ok(snapshot) => {
                self.take_fleet(snapshot.fleet);
                self.osv = Some(snapshot.osv);
                if self.host() == Some(host) {
                    self.loading = false;
                    self.take_record(snapshot.host);
                }
            }
            Err(e) => {
                self.failed.insert(host.to_string(), e);
            }
        }
    }

    pub fn failure(&self, host: &str) -> Option<&str> {
        self.failed.get(host).map(String::as_str)
    }

    /// Fleet rows read from the history: snapshots are read on other threads and may arrive
    /// out of order (two scans ending together, a load started before a scan was saved), so
    /// each host keeps the newer of the row it has and the one given.
    fn take_fleet(&mut self, rows: Vec<FleetRow>) {
        let mut fleet: BTreeMap<String, FleetRow> = std::mem::take(&mut self.fleet)
            .into_iter()
            .map(|r| (r.host.clone(), r))
            .collect();
        for row in rows {
            match fleet.get(&row.host) {
                Some(have) if have.scan_id > row.scan_id => {}
                _ => {
                    fleet.insert(row.host.clone(), row);
                }
            }
        }
        self.fleet = fleet.into_values().collect();
        self.clamp_fleet();
    }

    /// The host view's data as read from the history, unless it is older than what is shown
    /// (see [`Self::take_fleet`]).
    fn take_record(&mut self, record: Option<HostRecord>) {
        let newest = |r: &HostRecord| Some((r.scan.host.clone(), r.history.first()?.id));
        if let (Some((have_host, have)), Some((host, given))) = (
            self.record.as_ref().and_then(newest),
            record.as_ref().and_then(newest),
        ) && have_host == host
            && have > given
        {
            return;
        }
        self.set_record(record);
    }

    /// Replace the host view's data, keeping the selection on the same finding when it is
    /// still there.
    fn set_record(&mut self, record: Option<HostRecord>) {
        let keep = self.selected_key();
        self.record = record;
        self.refilter(keep);
    }

    /// The selected row's identity, to find it again after the rows change.
    fn selected_key(&self) -> Option<(Row, String)> {
        let record = self.record.as_ref()?;
        let row = self.selected_row()?;
        let name = match row {
            Row::Finding(i) => record
                .scan
                .findings
                .get(i)
                .map(|f| f.id.clone() + &f.package),
            Row::Config(i) => record.scan.config_findings.get(i).map(|c| c.check.clone()),
            Row::Note(_) => None,
        }?;
        Some((row, name))
    }

    fn refilter(&mut self, keep: Option<(Row, String)>) {
        self.rows = match &self.record {
            Some(r) => rows(&r.scan, &r.diff, &self.query),
            None => Vec::new(),
        };
        let found = keep.and_then(|(_, name)| {
            let record = self.record.as_ref()?;
            self.rows.iter().position(|row| match row {
                Row::Finding(i) => record
                    .scan
                    .findings
                    .get(*i)
                    .is_some_and(|f| f.id.clone() + &f.package == name),
                Row::Config(i) => record
                    .scan
                    .config_findings
                    .get(*i)
                    .is_some_and(|c| c.check == name),
                Row::Note(_) => false,
            })
        });
        self.selected = found.unwrap_or(0);
        self.clamp();
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    /// The fleet's rows, filtered by host name: scanned hosts, then hosts being scanned (or
    /// failed) for the first time, then known hosts never scanned.
    pub(crate) fn fleet_lines(&self) -> Vec<FleetLine<'_>> {
        let needle = self.filter.text().trim().to_lowercase();
        let wanted = |h: &str| needle.is_empty() || h.to_lowercase().contains(&needle);
        let mut out: Vec<FleetLine> = self
            .fleet
            .iter()
            .filter(|r| wanted(&r.host))
            .map(|r| FleetLine {
                host: &r.host,
                row: Some(r),
            })
            .collect();
        let unscanned = self
            .running
            .keys()
            .chain(self.failed.keys())
            .chain(self.known.iter())
            .filter(|h| !self.fleet.iter().any(|r| &r.host == *h) && wanted(h));
        for host in unscanned {
            if !out.iter().any(|l| l.host == host) {
                out.push(FleetLine { host, row: None });
            }
        }
        out
    }

    /// How many hosts the fleet knows of: scanned, or known to the workspace.
    pub(crate) fn fleet_hosts(&self) -> usize {
        let mut hosts: std::collections::BTreeSet<&str> =
            self.fleet.iter().map(|r| r.host.as_str()).collect();
        hosts.extend(self.known.iter().map(String::as_str));
        hosts.len()
    }

    fn clamp_fleet(&mut self) {
        self.fleet_selected = self
            .fleet_selected
            .min(self.fleet_lines().len().saturating_sub(1));
    }

    /// The host selected in the fleet view.
    pub fn fleet_host(&self) -> Option<String> {
        self.fleet_lines()
            .get(self.fleet_selected)
            .map(|l| l.host.to_string())
    }

    /// The selected package finding, when one is selected.
    pub fn selected_finding(&self) -> Option<&Finding> {
        match self.selected_row()? {
            Row::Finding(i) => self.record.as_ref()?.scan.findings.get(i),
            _ => None,
        }
    }

    pub fn selected_config(&self) -> Option<&ConfigFinding> {
        match self.selected_row()? {
            Row::Config(i) => self.record.as_ref()?.scan.config_findings.get(i),
            _ => None,
        }
    }

    /// The upgrade command for the selected finding, on this host's distro.
    pub fn selected_upgrade(&self) -> Option<String> {
        let f = self.selected_finding()?;
        self.record.as_ref()?.scan.upgrade_command(f)
    }

    /// Rows of the table the current size leaves (used for paging and scrolling).
    pub(crate) fn table_height(&self) -> usize {
        render::host_layout(self, Rect::new(0, 0, self.size.0, self.size.1))
            .table
            .height
            .saturating_sub(1) as usize
    }

    fn select(&mut self, i: usize) {
        match self.view {
            View::Fleet => {
                self.fleet_selected = i.min(self.fleet_lines().len().saturating_sub(1));
            }
            View::Host(_) => {
                self.selected = i;
                self.clamp();
            }
        }
    }

    fn current(&self) -> usize {
        match self.view {
            View::Fleet => self.fleet_selected,
            View::Host(_) => self.selected,
        }
    }

    fn edit_filter(&mut self, key: &KeyEvent) {
        let before = self.filter.text().to_string();
        self.filter.key(key);
        if self.filter.text() != before {
            self.apply_filter();
        }
    }

    fn apply_filter(&mut self) {
        match self.view {
            View::Fleet => {
                self.fleet_selected = 0;
                self.clamp_fleet();
            }
            View::Host(_) => {
                let keep = self.selected_key();
                self.query.text = self.filter.text().to_string();
                self.refilter(keep);
            }
        }
    }

    fn clear_filter(&mut self) {
        self.filter.clear();
        self.apply_filter();
    }

    /// Change the query (sort, filters) and recompute the rows.
    fn requery(&mut self, change: impl FnOnce(&mut Query)) {
        let keep = self.selected_key();
        change(&mut self.query);
        self.refilter(keep);
    }

    fn filter_key(&mut self, key: &KeyEvent) -> ScanOutcome {
        match key.code {
            KeyCode::Enter | KeyCode::Up | KeyCode::Down => self.filtering = false,
            KeyCode::Esc => {
                self.filtering = false;
                self.clear_filter();
            }
            _ => self.edit_filter(key),
        }
        ScanOutcome::None
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> ScanOutcome {
        if self.filtering {
            return self.filter_key(key);
        }
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return ScanOutcome::None;
        }
        let page = self.table_height().saturating_sub(1).max(1);
        let at = self.current();
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.select(at.saturating_sub(1)),
            KeyCode::Down | KeyCode::Char('j') => self.select(at + 1),
            KeyCode::PageUp => self.select(at.saturating_sub(page)),
            KeyCode::PageDown => self.select(at + page),
            KeyCode::Home | KeyCode::Char('g') => self.select(0),
            KeyCode::End | KeyCode::Char('G') => self.select(usize::MAX),
            KeyCode::Char('/') => self.filtering = true,
            KeyCode::Char('r') => return ScanOutcome::Load(self.host().map(str::to_string)),
            _ => {
                return match self.view {
                    View::Fleet => self.fleet_key(key),
                    View::Host(_) => self.host_key(key),
                };
            }
        }
        ScanOutcome::None
    }

    fn fleet_key(&mut self, key: &KeyEvent) -> ScanOutcome {
        match key.code {
            KeyCode::Enter => match self.fleet_host() {
                Some(host) => {
                    self.show(Some(host.clone()));
                    ScanOutcome::Load(Some(host))
                }
                None => ScanOutcome::None,
            },
            KeyCode::Char('s') => self
                .fleet_host()
                .map_or(ScanOutcome::None, ScanOutcome::Scan),
            KeyCode::Esc if !self.filter.is_empty() => {
                self.clear_filter();
                ScanOutcome::None
            }
            _ => ScanOutcome::None,
        }
    }

    fn host_key(&mut self, key: &KeyEvent) -> ScanOutcome {
        let Some(host) = self.host().map(str::to_string) else {
            return ScanOutcome::None;
        };
        match key.code {
            KeyCode::Char('s') => return ScanOutcome::Scan(host),
            KeyCode::Enter => {
                self.panel = match self.panel {
                    Panel::Detail => Panel::None,
                    _ => Panel::Detail,
                }
            }
            KeyCode::Char('h') => {
                self.panel = match self.panel {
                    Panel::History => Panel::None,
                    _ => Panel::History,
                }
            }
            KeyCode::Char('y') => {
                if let Some(command) = self.selected_upgrade() {
                    return ScanOutcome::Copy(command);
                }
            }
            KeyCode::Char('o') => self.requery(|q| q.sort = q.sort.next()),
            KeyCode::Char('O') => self.requery(|q| q.reverse = !q.reverse),
            KeyCode::Char('v') => {
                self.requery(|q| q.min_severity = next_min_severity(q.min_severity))
            }
            KeyCode::Char('x') => self.requery(|q| q.fix = q.fix.next()),
            KeyCode::Char('n') => self.requery(|q| q.only_new = !q.only_new),
            KeyCode::Esc if self.panel != Panel::None => self.panel = Panel::None,
            KeyCode::Esc if !self.filter.is_empty() => self.clear_filter(),
            KeyCode::Esc => {
                self.show(None);
                return ScanOutcome::Load(None);
            }
            _ => {}
        }
        ScanOutcome::None
    }

    /// The wheel moves the selection; a click selects the row under it.
    pub fn handle_mouse(&mut self, ev: &MouseEvent) {
        let at = self.current();
        match ev.kind {
            MouseEventKind::ScrollUp => self.select(at.saturating_sub(WHEEL_ROWS)),
            MouseEventKind::ScrollDown => self.select(at + WHEEL_ROWS),
            MouseEventKind::Down(MouseButton::Left) => {
                let area = Rect::new(0, 0, self.size.0, self.size.1);
                if let Some(i) = render::row_at(self, area, ev.row) {
                    self.select(i);
                }
            }
            _ => {}
        }
    }

    pub fn paste(&mut self, text: &str) {
        if self.filtering {
            self.filter.paste(text);
            self.apply_filter();
        }
    }

    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.size = (cols, rows);
    }

    pub fn cursor(&self) -> Option<(u16, u16)> {
        if !self.filtering {
            return None;
        }
        let area = Rect::new(0, 0, self.size.0, self.size.1);
        render::filter_cursor(self, area)
    }
}

impl PaneView for ScanPane {
    fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        ScanPane::render(self, area, buf, theme)
    }
    fn handle_key(&mut self, key: &KeyEvent) -> Outcome {
        match ScanPane::handle_key(self, key) {
            ScanOutcome::Copy(text) => Outcome::Copy(text),
            ScanOutcome::None => Outcome::Done,
            other => {
                self.pending = other;
                Outcome::Done
            }
        }
    }
    fn handle_mouse(&mut self, ev: &MouseEvent) -> Outcome {
        ScanPane::handle_mouse(self, ev);
        Outcome::Done
    }
    fn paste(&mut self, text: &str) {
        ScanPane::paste(self, text)
    }
    fn resize(&mut self, cols: u16, rows: u16) {
        ScanPane::resize(self, cols, rows)
    }
    fn title(&self) -> Option<&str> {
        Some("scans")
    }
    fn cursor(&self) -> Option<(u16, u16)> {
        ScanPane::cursor(self)
    }
    fn mode(&self) -> Option<&'static str> {
        if self.filtering {
            Some("FILTER")
        } else if !self.running.is_empty() {
            Some("SCANNING")
        } else {
            None
        }
    }
}
