//! The host picker (the home tab): hosts by group, fuzzy filter, connection state per row,
//! marking several to open them tiled, and an edit form whose result the app saves.

mod filter;
mod form;
mod render;

pub use filter::{Entry, Fuzzy, Listing, UNGROUPED};
pub use form::{EditForm, Field, FieldError, FormOutcome};

use crate::panes::{Outcome, PaneView};
use crate::ui::input::TextInput as Input;
use crate::ui::theme::Theme;
use crate::workspace::{Host, Inventory};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::collections::HashMap;

/// Rows moved per mouse-wheel notch.
const WHEEL_ROWS: usize = 3;
/// The size assumed until the app reports the pane's size.
const DEFAULT_SIZE: (u16, u16) = (80, 24);

/// A host's connection state, as the app last reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HostState {
    #[default]
    Never,
    Connecting,
    Connected,
    /// The last error (shown shortened).
    Failed(String),
    /// The session closed; why.
    Ended(String),
}

/// What the app should do after a key.
// One outcome per key, moved at once: boxing the host would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PickerOutcome {
    #[default]
    None,
    /// Host names: one opens a tab; several (the marked ones, in marking order) open as tiled
    /// panes in one tab.
    Open(Vec<String>),
    /// The edited host; the app saves it (`HostsFile::update` + `Editor::put`) and then calls
    /// `set_inventory` with what it reloads.
    Edit(Host),
    /// Show this host's scan results (Ctrl-s), where it can be scanned.
    Scan(String),
}

/// One line of the list under the filter line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListLine<'a> {
    Header(&'a str, usize),
    Entry(usize),
}

pub struct HostPicker {
    inventory: Inventory,
    error: Option<String>,
    states: HashMap<String, HostState>,
    /// Host name → when a session to it last connected (RFC 3339, UTC), shown when the host
    /// has no live state.
    last_connected: HashMap<String, String>,
    filter: Input,
    fuzzy: Fuzzy,
    listing: Listing,
    /// Index into `listing.entries`.
    selected: usize,
    /// Marked host names, in the order they were marked.
    marked: Vec<String>,
    /// First list line shown.
    scroll: usize,
    size: (u16, u16),
    form: Option<EditForm>,
    /// The outcome of the last key that came through `PaneView::handle_key`.
    pending: PickerOutcome,
}

impl HostPicker {
    /// `load_error` (e.g. `hosts.toml:3: …`) is shown at the top; the list still works.
    pub fn new(inventory: Inventory, load_error: Option<String>) -> Self {
        let mut picker = Self {
            inventory,
            error: load_error,
            states: HashMap::new(),
            last_connected: HashMap::new(),
            filter: Input::default(),
            fuzzy: Fuzzy::default(),
            listing: Listing::default(),
            selected: 0,
            marked: Vec::new(),
            scroll: 0,
            size: DEFAULT_SIZE,
            form: None,
            pending: PickerOutcome::None,
        };
        picker.refilter(None);
        picker
    }

    /// After an edit or a successful reload: keeps the selection (by name), the filter and the
    /// marks of hosts that still exist, and clears the error shown at the top.
    pub fn set_inventory(&mut self, inventory: Inventory) {
        let keep = self
            .selected_entry()
            .map(|(e, h)| (h.name.clone(), e.group.clone()));
        self.inventory = inventory;
        self.error = None;
        let inv = &self.inventory;
        self.marked.retain(|n| inv.get(n).is_some());
        self.refilter(keep);
    }

    /// A problem to show at the top (a reload that failed, a save that failed); `None` clears it.
    pub fn set_error(&mut self, error: Option<String>) {
        self.error = error;
        self.scroll_to_selection();
    }

    pub fn set_state(&mut self, host: &str, state: HostState) {
        self.states.insert(host.to_string(), state);
    }

    /// When a session to `host` last connected (RFC 3339, UTC), this run or an earlier one.
    pub fn set_last_connected(&mut self, host: &str, at: &str) {
        self.last_connected.insert(host.to_string(), at.to_string());
    }

    pub fn last_connected(&self, host: &str) -> Option<&str> {
        self.last_connected.get(host).map(String::as_str)
    }

    pub fn state(&self, host: &str) -> &HostState {
        const NEVER: &HostState = &HostState::Never;
        self.states.get(host).unwrap_or(NEVER)
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    pub fn filter_text(&self) -> &str {
        self.filter.text()
    }

    /// The listed rows (a host under each of its groups), after filtering.
    pub fn entries(&self) -> &[Entry] {
        &self.listing.entries
    }

    /// The selected row and its host.
    pub fn selected_entry(&self) -> Option<(&Entry, &Host)> {
        let e = self.listing.entries.get(self.selected)?;
        Some((e, self.inventory.hosts.get(e.host)?))
    }

    pub fn marked(&self) -> &[String] {
        &self.marked
    }

    pub fn editing(&self) -> Option<&EditForm> {
        self.form.as_ref()
    }

    /// The outcome of the last key given through `PaneView::handle_key`, once.
    pub fn take_outcome(&mut self) -> PickerOutcome {
        std::mem::take(&mut self.pending)
    }

    /// Recompute the rows; select the best match when filtering, else `keep` (name, group).
    fn refilter(&mut self, keep: Option<(String, String)>) {
        self.listing = self.fuzzy.list(&self.inventory, self.filter.text());
        let inv = &self.inventory;
        let name_of = |e: &Entry| inv.hosts.get(e.host).map(|h| h.name.as_str());
        let kept = keep.and_then(|(name, group)| {
            let entries = &self.listing.entries;
            entries
                .iter()
                .position(|e| name_of(e) == Some(name.as_str()) && e.group == group)
                .or_else(|| {
                    entries
                        .iter()
                        .position(|e| name_of(e) == Some(name.as_str()))
                })
        });
        self.selected = self.listing.best.or(kept).unwrap_or(0);
        self.scroll_to_selection();
    }

    pub(crate) fn lines(&self) -> Vec<ListLine<'_>> {
        let entries = &self.listing.entries;
        let mut out = Vec::with_capacity(entries.len() + 8);
        for (i, e) in entries.iter().enumerate() {
            if i == 0 || entries[i - 1].group != e.group {
                let count = entries[i..]
                    .iter()
                    .take_while(|x| x.group == e.group)
                    .count();
                out.push(ListLine::Header(&e.group, count));
            }
            out.push(ListLine::Entry(i));
        }
        out
    }

    /// Rows above the list: the filter line and the wrapped error.
    pub(crate) fn list_top(&self, width: u16) -> u16 {
        1 + render::error_height(self.error.as_deref(), width)
    }

    fn list_height(&self) -> usize {
        self.size.1.saturating_sub(self.list_top(self.size.0)) as usize
    }

    fn scroll_to_selection(&mut self) {
        let lines = self.lines();
        self.scroll = render::scroll_for(&lines, self.selected, self.scroll, self.list_height());
    }

    fn select(&mut self, i: usize) {
        self.selected = i.min(self.listing.entries.len().saturating_sub(1));
        self.scroll_to_selection();
    }

    fn toggle_mark(&mut self) {
        let Some((_, host)) = self.selected_entry() else {
            return;
        };
        let name = host.name.clone();
        if let Some(i) = self.marked.iter().position(|n| *n == name) {
            self.marked.remove(i);
        } else {
            self.marked.push(name);
        }
    }

    fn open(&mut self) -> PickerOutcome {
        if !self.marked.is_empty() {
            return PickerOutcome::Open(std::mem::take(&mut self.marked));
        }
        match self.selected_entry() {
            Some((_, h)) => PickerOutcome::Open(vec![h.name.clone()]),
            None => PickerOutcome::None,
        }
    }

    fn edit_filter(&mut self, key: &KeyEvent) {
        let before = self.filter.text().to_string();
        self.filter.key(key);
        if self.filter.text() != before {
            let keep = self
                .selected_entry()
                .map(|(e, h)| (h.name.clone(), e.group.clone()));
            self.refilter(keep);
        }
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> PickerOutcome {
        if let Some(form) = &mut self.form {
            return match form.handle_key(key) {
                FormOutcome::Stay => PickerOutcome::None,
                FormOutcome::Cancel => {
                    self.form = None;
                    PickerOutcome::None
                }
                FormOutcome::Save(host) => {
                    self.form = None;
                    PickerOutcome::Edit(host)
                }
            };
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let page = self.list_height().saturating_sub(1).max(1);
        let last = self.listing.entries.len().saturating_sub(1);
        match key.code {
            KeyCode::Char('e') if ctrl => {
                if let Some((_, host)) = self.selected_entry() {
                    self.form = Some(EditForm::new(host));
                }
            }
            KeyCode::Char('s') if ctrl => {
                if let Some((_, host)) = self.selected_entry() {
                    return PickerOutcome::Scan(host.name.clone());
                }
            }
            KeyCode::Enter => return self.open(),
            KeyCode::Esc if !self.filter.text().is_empty() => {
                self.filter.clear();
                let keep = self
                    .selected_entry()
                    .map(|(e, h)| (h.name.clone(), e.group.clone()));
                self.refilter(keep);
            }
            KeyCode::Esc => self.marked.clear(),
            KeyCode::Char(' ') if !ctrl => self.toggle_mark(),
            KeyCode::Up => self.select(self.selected.saturating_sub(1)),
            KeyCode::Char('p') if ctrl => self.select(self.selected.saturating_sub(1)),
            KeyCode::Down => self.select(self.selected + 1),
            KeyCode::Char('n') if ctrl => self.select(self.selected + 1),
            KeyCode::PageUp => self.select(self.selected.saturating_sub(page)),
            KeyCode::PageDown => self.select(self.selected + page),
            KeyCode::Home => self.select(0),
            KeyCode::End => self.select(last),
            KeyCode::Char('u') if ctrl => self.edit_filter(key),
            KeyCode::Char(_) | KeyCode::Backspace if !ctrl => self.edit_filter(key),
            _ => {}
        }
        PickerOutcome::None
    }

    /// A click selects the row under it; the wheel moves the selection.
    pub fn handle_mouse(&mut self, ev: &MouseEvent) {
        if self.form.is_some() {
            return;
        }
        match ev.kind {
            MouseEventKind::ScrollUp => self.select(self.selected.saturating_sub(WHEEL_ROWS)),
            MouseEventKind::ScrollDown => self.select(self.selected + WHEEL_ROWS),
            MouseEventKind::Down(MouseButton::Left) => {
                let top = self.list_top(self.size.0);
                let Some(row) = ev.row.checked_sub(top) else {
                    return;
                };
                let lines = self.lines();
                if let Some(ListLine::Entry(i)) = lines.get(self.scroll + row as usize) {
                    self.select(*i);
                }
            }
            _ => {}
        }
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(form) = &mut self.form {
            form.paste(text);
            return;
        }
        self.filter.insert(text.lines().next().unwrap_or(""));
        self.refilter(None);
    }

    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.size = (cols, rows);
        self.scroll_to_selection();
    }

    pub fn cursor(&self) -> Option<(u16, u16)> {
        let area = Rect::new(0, 0, self.size.0, self.size.1);
        if let Some(form) = &self.form {
            return form.cursor(area);
        }
        let x = render::FILTER_PROMPT.chars().count() + self.filter.cursor_col();
        (x < self.size.0 as usize && self.size.1 > 0).then_some((x as u16, 0))
    }
}

impl PaneView for HostPicker {
    fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        HostPicker::render(self, area, buf, theme)
    }
    fn handle_key(&mut self, key: &KeyEvent) -> Outcome {
        let outcome = HostPicker::handle_key(self, key);
        if outcome != PickerOutcome::None {
            self.pending = outcome;
        }
        Outcome::Done
    }
    fn handle_mouse(&mut self, ev: &MouseEvent) -> Outcome {
        HostPicker::handle_mouse(self, ev);
        Outcome::Done
    }
    fn paste(&mut self, text: &str) {
        HostPicker::paste(self, text)
    }
    fn resize(&mut self, cols: u16, rows: u16) {
        HostPicker::resize(self, cols, rows)
    }
    fn title(&self) -> Option<&str> {
        Some("hosts")
    }
    fn cursor(&self) -> Option<(u16, u16)> {
        HostPicker::cursor(self)
    }
    fn mode(&self) -> Option<&'static str> {
        self.form.as_ref().map(|_| "EDIT")
    }
}
