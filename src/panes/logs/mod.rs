//! The log browser (prefix O): the session recordings, newest first, filtered by host as the
//! user types; `/` searches the text of every recording of the selected host (as `lumen logs
//! list --grep` does) and narrows the list to those that hold it; Enter replays one.

pub mod replay;

use crate::record::{cast, store};
use crate::ui::theme::{Role, Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use std::path::{Path, PathBuf};

/// How far into a recording the browser looks for its first line of output.
const FIRST_LINE_EVENTS: usize = 200;
const HELP: &str = "type to filter hosts · / search this host's logs · Enter replay · Esc close";

/// One row of the browser.
#[derive(Debug, Clone)]
pub struct Row {
    pub listed: store::Listed,
    /// The first approved command, else the first line of output.
    pub first: String,
}

/// What the browser asks of the app after a key.
#[derive(Debug, PartialEq)]
pub enum LogsOutcome {
    None,
    /// Replay this recording in a new tab.
    Replay(PathBuf),
    /// Search these recordings' text off the UI task.
    Search(SearchJob),
    Close,
}

pub struct LogBrowser {
    root: PathBuf,
    rows: Vec<Row>,
    /// Typed host filter.
    filter: String,
    /// The `/` line while it is being typed.
    typing_search: Option<String>,
    /// The last search run: its text, its host, and the files that hold it.
    search: Option<(String, String, Vec<PathBuf>)>,
    selected: usize,
    /// The list is being read.
    loading: bool,
    /// A search is running for this text.
    searching: Option<String>,
}

/// The first non-empty line of output of `path` (its first events only).
fn first_output_line(path: &Path) -> String {
    let mut text = String::new();
    let mut seen = 0;
    cast::read(path, |ev| {
        seen += 1;
        if let cast::Event::Output(_, data) = ev {
            text.push_str(&crate::ai::redact::visible_text(data.as_bytes()));
        }
        let done = text.lines().filter(|l| !l.trim().is_empty()).count() > 1;
        !done && seen < FIRST_LINE_EVENTS
    });
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .to_string()
}

/// Every recording under `root`, newest first (reads each file: run off the UI task).
pub fn list(root: &Path) -> Vec<Row> {
    let mut rows: Vec<Row> = store::files(root)
        .into_iter()
        .map(|(host, path)| {
            let (listed, _) = store::describe(root, &host, &path, None);
            let first = listed
                .first_marker
                .clone()
                .unwrap_or_else(|| first_output_line(&path));
            Row { listed, first }
        })
        .collect();
    rows.sort_by(|a, b| (b.listed.unix, &b.listed.id).cmp(&(a.listed.unix, &a.listed.id)));
    rows
}

/// Which of `files` (recordings of `host`) hold `text`, as `lumen logs list --grep` decides
/// (run off the UI task).
pub fn search(root: &Path, host: &str, files: &[PathBuf], text: &str) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|f| store::describe(root, host, f, Some(text)).1)
        .cloned()
        .collect()
}

/// A search the browser asks the app to run.
#[derive(Debug, PartialEq)]
pub struct SearchJob {
    pub host: String,
    pub files: Vec<PathBuf>,
    pub text: String,
}

impl LogBrowser {
    /// An empty browser on `root`, waiting for [`LogBrowser::loaded`].
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            rows: Vec::new(),
            loading: true,
            searching: None,
            filter: String::new(),
            typing_search: None,
            search: None,
            selected: 0,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The list, read.
    pub fn loaded(&mut self, rows: Vec<Row>) {
        self.rows = rows;
        self.loading = false;
        self.selected = self.selected.min(self.visible().len().saturating_sub(1));
    }

    /// A search's result: the list narrows to `hits`.
    pub fn searched(&mut self, job: SearchJob, hits: Vec<PathBuf>) {
        if self.searching.as_deref() != Some(job.text.as_str()) {
            return; // a newer search (or none) is wanted now
        }
        self.searching = None;
        self.search = Some((job.text, job.host, hits));
        self.selected = 0;
    }

    /// The rows shown: the host filter, then the search's matches.
    pub fn visible(&self) -> Vec<&Row> {
        let want = self.filter.to_lowercase();
        self.rows
            .iter()
            .filter(|r| r.listed.host.to_lowercase().contains(&want))
            .filter(|r| {
                self.search
                    .as_ref()
                    .is_none_or(|(_, _, hits)| hits.contains(&r.listed.file))
            })
            .collect()
    }

    fn selected_row(&self) -> Option<&Row> {
        self.visible().get(self.selected).copied()
    }

    /// Ask for every recording of the selected row's host to be searched for `text`.
    fn run_search(&mut self, text: String) -> LogsOutcome {
        self.search = None;
        self.searching = None;
        if text.is_empty() {
            return LogsOutcome::None;
        }
        let Some(host) = self.selected_row().map(|r| r.listed.host.clone()) else {
            return LogsOutcome::None;
        };
        let files = self
            .rows
            .iter()
            .filter(|r| r.listed.host == host)
            .map(|r| r.listed.file.clone())
            .collect();
        self.searching = Some(text.clone());
        LogsOutcome::Search(SearchJob { host, files, text })
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> LogsOutcome {
        if let Some(typed) = &mut self.typing_search {
            match key.code {
                KeyCode::Enter => {
                    let text = std::mem::take(typed);
                    self.typing_search = None;
                    return self.run_search(text);
                }
                KeyCode::Esc => self.typing_search = None,
                KeyCode::Backspace => {
                    typed.pop();
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => typed.push(c),
                _ => {}
            }
            return LogsOutcome::None;
        }
        let shown = self.visible().len();
        match key.code {
            KeyCode::Esc if self.search.is_some() || self.searching.is_some() => {
                self.search = None;
                self.searching = None;
            }
            KeyCode::Esc if !self.filter.is_empty() => self.filter.clear(),
            KeyCode::Esc => return LogsOutcome::Close,
            KeyCode::Enter => {
                if let Some(r) = self.selected_row() {
                    return LogsOutcome::Replay(r.listed.file.clone());
                }
            }
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down => self.selected = (self.selected + 1).min(shown.saturating_sub(1)),
            KeyCode::Backspace => {
                self.filter.pop();
                self.selected = 0;
            }
            KeyCode::Char('/') => self.typing_search = Some(String::new()),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter.push(c);
                self.selected = 0;
            }
            _ => {}
        }
        LogsOutcome::None
    }

    fn top_line(&self, theme: &Theme) -> Line<'_> {
        let muted = theme.style(Role::Muted);
        let mut spans = vec![Span::raw("host: "), Span::raw(self.filter.as_str())];
        if let Some(t) = &self.typing_search {
            spans.push(Span::raw("   /"));
            spans.push(Span::raw(t.as_str()));
        } else if let Some(text) = &self.searching {
            spans.push(Span::styled(format!("   /{text}: searching…"), muted));
        } else if let Some((text, host, hits)) = &self.search {
            spans.push(Span::styled(
                format!("   /{text} in {host}: {} found (Esc clears)", hits.len()),
                muted,
            ));
        } else {
            spans.push(Span::styled(format!("   {HELP}"), muted));
        }
        Line::from(spans)
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        if area.is_empty() {
            return;
        }
        Paragraph::new(self.top_line(theme)).render(Rect { height: 1, ..area }, buf);
        let list = Rect {
            y: area.y + 1,
            height: area.height - 1,
            ..area
        };
        let rows = self.visible();
        if rows.is_empty() {
            let why = if self.loading {
                "reading the recordings…".to_string()
            } else if self.rows.is_empty() {
                format!("no recordings in {}", self.root.display())
            } else {
                "no recordings match".to_string()
            };
            Paragraph::new(why)
                .style(theme.style(Role::Muted))
                .render(list, buf);
            return;
        }
        let host_cols = rows.iter().map(|r| r.listed.host.len()).max().unwrap_or(4);
        let height = usize::from(list.height);
        let skip = self.selected.saturating_sub(height.saturating_sub(1));
        for (i, r) in rows.iter().enumerate().skip(skip).take(height) {
            let started = r.listed.started.get(..16).unwrap_or(&r.listed.started);
            let damaged = if r.listed.warning.is_some() {
                " (damaged)"
            } else {
                ""
            };
            let text = format!(
                "{:<host_cols$}  {}  {:>8}  {}{damaged}",
                r.listed.host,
                started.replace('T', " "),
                replay::clock(r.listed.duration_s),
                r.first
            );
            let style = if i == self.selected {
                theme.style(Role::Selection)
            } else {
                ratatui::style::Style::default()
            };
            let y = list.y + (i - skip) as u16;
            Paragraph::new(text)
                .style(style)
                .render(Rect::new(list.x, y, list.width, 1), buf);
        }
    }
}

impl super::PaneView for LogBrowser {
    fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        LogBrowser::render(self, area, buf, theme)
    }
    fn handle_key(&mut self, _key: &KeyEvent) -> super::Outcome {
        // The app sends keys through `LogBrowser::handle_key` for its outcome.
        super::Outcome::Done
    }
    fn handle_mouse(&mut self, _ev: &MouseEvent) -> super::Outcome {
        super::Outcome::Done
    }
    fn paste(&mut self, text: &str) {
        match &mut self.typing_search {
            Some(t) => t.push_str(text),
            None => self.filter.push_str(text),
        }
    }
    fn resize(&mut self, _cols: u16, _rows: u16) {}
    fn title(&self) -> Option<&str> {
        Some("logs")
    }
    fn cursor(&self) -> Option<(u16, u16)> {
        None
    }
}
