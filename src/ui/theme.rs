//! Themes: styles by role and the terminal palette. `themes/default.toml` is embedded;
//! other themes come from `themes/*.toml` in the config dir or next to the binary.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Everything a pane may colour. Panes draw only with these, never literal colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Role {
    #[serde(rename = "border.focused")]
    BorderFocused,
    #[serde(rename = "border")]
    Border,
    #[serde(rename = "tab.active")]
    TabActive,
    #[serde(rename = "tab")]
    Tab,
    #[serde(rename = "tab.activity")]
    TabActivity,
    #[serde(rename = "tab.bell")]
    TabBell,
    #[serde(rename = "tabbar")]
    TabBar,
    #[serde(rename = "status")]
    Status,
    #[serde(rename = "status.key")]
    StatusKey,
    #[serde(rename = "status.message")]
    StatusMessage,
    #[serde(rename = "error")]
    Error,
    #[serde(rename = "muted")]
    Muted,
    #[serde(rename = "selection")]
    Selection,
    #[serde(rename = "search.match")]
    SearchMatch,
    #[serde(rename = "search.current")]
    SearchCurrent,
    #[serde(rename = "copy.cursor")]
    CopyCursor,
    #[serde(rename = "dialog")]
    Dialog,
    #[serde(rename = "dialog.title")]
    DialogTitle,
    #[serde(rename = "dialog.highlight")]
    DialogHighlight,
    #[serde(rename = "broadcast")]
    Broadcast,
}

impl Role {
    pub const ALL: [Role; 20] = [
        Role::BorderFocused,
        Role::Border,
        Role::TabActive,
        Role::Tab,
        Role::TabActivity,
        Role::TabBell,
        Role::TabBar,
        Role::Status,
        Role::StatusKey,
        Role::StatusMessage,
        Role::Error,
        Role::Muted,
        Role::Selection,
        Role::SearchMatch,
        Role::SearchCurrent,
        Role::CopyCursor,
        Role::Dialog,
        Role::DialogTitle,
        Role::DialogHighlight,
        Role::Broadcast,
    ];
}

/// Colours of the terminal panes: default foreground/background, cursor, the 16 ANSI colours.
#[derive(Debug, Clone, PartialEq)]
pub struct Palette {
    pub foreground: Color,
    pub background: Color,
    pub cursor: Color,
    /// black, red, green, yellow, blue, magenta, cyan, white, then the bright eight.
    pub ansi: [Color; 16],
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    roles: BTreeMap<Role, Style>,
    pub palette: Palette,
}

impl Theme {
    pub fn style(&self, role: Role) -> Style {
        self.roles.get(&role).copied().unwrap_or_default()
    }
}

/// The theme compiled into the binary.
pub const DEFAULT_THEME: &str = include_str!("../../themes/default.toml");
/// The light theme shipped beside it.
pub const LIGHT_THEME: &str = include_str!("../../themes/light.toml");

/// A theme file that could not be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", file_line(file, *line))]
pub struct ThemeError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    #[serde(default)]
    roles: BTreeMap<toml::Spanned<String>, toml::Spanned<StyleSpec>>,
    #[serde(default)]
    terminal: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    dim: bool,
}

/// `file:line`, or just `file` when the problem is not on a line (line 0).
pub fn file_line(file: &str, line: usize) -> String {
    if line == 0 {
        file.to_string()
    } else {
        format!("{file}:{line}")
    }
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parse a colour: a name (`red`, `bright-blue`, `reset`), `#rrggbb`, or an index `0`-`255`.
pub fn parse_color(s: &str) -> Result<Color, String> {
    let named = match s.to_ascii_lowercase().replace('_', "-").as_str() {
        "reset" | "default" => Some(Color::Reset),
        "black" => Some(Color::Black),
        "red" => Some(Color::Red),
        "green" => Some(Color::Green),
        "yellow" => Some(Color::Yellow),
        "blue" => Some(Color::Blue),
        "magenta" => Some(Color::Magenta),
        "cyan" => Some(Color::Cyan),
        "white" | "gray" | "grey" => Some(Color::Gray),
        "bright-black" | "dark-gray" | "dark-grey" => Some(Color::DarkGray),
        "bright-red" => Some(Color::LightRed),
        "bright-green" => Some(Color::LightGreen),
        "bright-yellow" => Some(Color::LightYellow),
        "bright-blue" => Some(Color::LightBlue),
        "bright-magenta" => Some(Color::LightMagenta),
        "bright-cyan" => Some(Color::LightCyan),
        "bright-white" => Some(Color::White),
        _ => None,
    };
    if let Some(c) = named {
        return Ok(c);
    }
    if let Some(hex) = s.strip_prefix('#')
        && hex.len() == 6
        && let Ok(v) = u32::from_str_radix(hex, 16)
    {
        return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
    }
    if let Ok(i) = s.parse::<u8>() {
        return Ok(Color::Indexed(i));
    }
    Err(format!(
        "'{s}' is not a colour (use a name like 'bright-blue', '#rrggbb' or 0-255)"
    ))
}

const ANSI_NAMES: [&str; 16] = [
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "white",
    "bright-black",
    "bright-red",
    "bright-green",
    "bright-yellow",
    "bright-blue",
    "bright-magenta",
    "bright-cyan",
    "bright-white",
];

impl Theme {
    /// The embedded default theme. It is tested, so it always parses.
    pub fn builtin() -> Self {
        Self::parse("themes/default.toml", DEFAULT_THEME, None).unwrap_or_else(|_| Self::bare())
    }

    /// A theme with no styles at all, used only if the embedded one were broken.
    fn bare() -> Self {
        Self {
            name: "bare".into(),
            roles: BTreeMap::new(),
            palette: Palette {
                foreground: Color::Reset,
                background: Color::Reset,
                cursor: Color::Reset,
                ansi: [
                    Color::Black,
                    Color::Red,
                    Color::Green,
                    Color::Yellow,
                    Color::Blue,
                    Color::Magenta,
                    Color::Cyan,
                    Color::Gray,
                    Color::DarkGray,
                    Color::LightRed,
                    Color::LightGreen,
                    Color::LightYellow,
                    Color::LightBlue,
                    Color::LightMagenta,
                    Color::LightCyan,
                    Color::White,
                ],
            },
        }
    }

    /// Parse a theme file. What it leaves out comes from `base` (or the bare theme).
    pub fn parse(file: &str, text: &str, base: Option<&Theme>) -> Result<Self, ThemeError> {
        let err = |offset: usize, message: String| ThemeError {
            file: file.to_string(),
            line: line_of(text, offset),
            message,
        };
        let parsed: ThemeFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            err(offset, crate::text::toml_message(&e))
        })?;
        let mut theme = base.cloned().unwrap_or_else(Self::bare);
        if let Some(name) = parsed.name {
            theme.name = name;
        }
        for (key, spec) in parsed.roles {
            let role: Role =
                serde::de::Deserialize::deserialize(serde::de::value::StrDeserializer::<
                    serde::de::value::Error,
                >::new(key.get_ref()))
                .map_err(|_| {
                    err(
                        key.span().start,
                        format!("unknown role '{}'", key.get_ref()),
                    )
                })?;
            let at = spec.span().start;
            let spec = spec.into_inner();
            let mut style = Style::default();
            if let Some(fg) = &spec.fg {
                style = style.fg(parse_color(fg).map_err(|m| err(at, m))?);
            }
            if let Some(bg) = &spec.bg {
                style = style.bg(parse_color(bg).map_err(|m| err(at, m))?);
            }
            for (on, m) in [
                (spec.bold, Modifier::BOLD),
                (spec.italic, Modifier::ITALIC),
                (spec.underline, Modifier::UNDERLINED),
                (spec.reversed, Modifier::REVERSED),
                (spec.dim, Modifier::DIM),
            ] {
                if on {
                    style = style.add_modifier(m);
                }
            }
            theme.roles.insert(role, style);
        }
        for (key, value) in parsed.terminal {
            let color = parse_color(value.get_ref()).map_err(|m| err(value.span().start, m))?;
            let slot = match key.get_ref().as_str() {
                "foreground" => &mut theme.palette.foreground,
                "background" => &mut theme.palette.background,
                "cursor" => &mut theme.palette.cursor,
                other => match ANSI_NAMES.iter().position(|n| *n == other) {
                    Some(i) => &mut theme.palette.ansi[i],
                    None => {
                        return Err(err(
                            key.span().start,
                            format!(
                                "unknown terminal colour '{other}' (foreground, background, cursor, or an ANSI name such as bright-red)"
                            ),
                        ));
                    }
                },
            };
            *slot = color;
        }
        Ok(theme)
    }

    /// Find a theme by name: the config dir's `themes/NAME.toml`, then the shipped ones.
    pub fn load(name: &str, themes_dir: &Path) -> Result<Self, ThemeError> {
        let builtin = Self::builtin();
        let path = themes_dir.join(format!("{name}.toml"));
        match crate::text::read_capped_string(&path, crate::text::SETTINGS_FILE_LIMIT) {
            Ok(text) => return Self::parse(&path.display().to_string(), &text, Some(&builtin)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ThemeError {
                    file: path.display().to_string(),
                    line: 0,
                    message: format!("cannot read: {e}"),
                });
            }
        }
        match name {
            "default" => Ok(builtin),
            "light" => Self::parse("themes/light.toml", LIGHT_THEME, Some(&builtin)),
            _ => Err(ThemeError {
                file: path.display().to_string(),
                line: 0,
                message: format!("no theme named '{name}' (shipped: default, light)"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_themes_parse_and_set_every_role() {
        for (file, text) in [("default.toml", DEFAULT_THEME), ("light.toml", LIGHT_THEME)] {
            let theme = Theme::parse(file, text, None).expect(file);
            for role in Role::ALL {
                assert!(theme.roles.contains_key(&role), "{file} lacks {role:?}");
            }
        }
    }

    #[test]
    fn bad_role_names_file_and_line() {
        let text = "name = \"x\"\n[roles]\n\"border\" = { fg = \"red\" }\n\"bordr.focused\" = { fg = \"red\" }\n";
        let e = Theme::parse("t.toml", text, None).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("t.toml", 4));
        assert!(e.message.contains("bordr.focused"), "{e}");
    }

    #[test]
    fn bad_colour_names_file_and_line() {
        let text = "[roles]\n\n\"error\" = { fg = \"chartreuse-ish\" }\n";
        let e = Theme::parse("t.toml", text, None).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.to_string()
                .starts_with("t.toml:3: 'chartreuse-ish' is not a colour")
        );
    }

    #[test]
    fn syntax_error_has_line() {
        let e = Theme::parse("t.toml", "[roles]\n\"error\" = {\n", None).unwrap_err();
        assert!(e.line >= 2, "{e}");
    }

    #[test]
    fn colours_parse() {
        assert_eq!(parse_color("#ff8000"), Ok(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_color("bright-blue"), Ok(Color::LightBlue));
        assert_eq!(parse_color("208"), Ok(Color::Indexed(208)));
        assert!(parse_color("#ff80").is_err());
    }
}
