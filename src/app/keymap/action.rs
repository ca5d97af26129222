//! Every action a key binding or the palette can run, in one table: its name in
//! config.toml, its default keys after the prefix (tmux's, so muscle memory works), and the
//! line the help and the palette show. The enum, the list, the names, the descriptions and
//! the default keymap all come from that table.

use crate::app::layout::Direction;

macro_rules! actions {
    ($( $variant:ident, $name:literal, [$($key:literal),*], $describe:literal; )*) => {
        /// Everything a key binding or the palette can do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            /// Every action, in the order the help and the palette list them.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The name used in `config.toml`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// One line for the help and the palette.
            pub fn describe(self) -> &'static str {
                match self {
                    $(Action::$variant => $describe,)*
                }
            }

            /// The keys after the prefix that run it by default.
            pub fn default_keys(self) -> &'static [&'static str] {
                match self {
                    $(Action::$variant => &[$($key),*],)*
                }
            }
        }
    };
}

actions! {
    // What lumen adds to tmux comes first, so the help shows it before the tmux keys.
    Copilot, "copilot", ["a"], "AI copilot beside this pane: open, focus, close";
    ScanResults, "scan_results", ["S"], "scan results: findings per host, scan the focused host";
    Logs, "logs", ["O"], "log browser: session recordings by host, / search, Enter replay";
    Vault, "vault", ["v"], "vault: passwords, keys, TOTP codes (asks to unlock)";
    Hosts, "hosts", ["h"], "host list: filter, mark several, open, edit";
    Runbooks, "runbooks", ["R"], "runbooks and snippets: pick one, fill in, run or type it";
    LockVault, "lock_vault", ["L"], "lock the vault now";
    Detach, "detach", ["d"], "detach: the session goes on (lumen attach)";
    ChooseSession, "choose_session", ["s"], "sessions: switch to another";
    RenameSession, "rename_session", ["$"], "rename this session";
    Quit, "quit", [], "quit: end this session and its panes (asks)";
    NewTab, "new_tab", ["c"], "new tab: a host or a local shell";
    CloseTab, "close_tab", ["&"], "close tab (asks)";
    NextTab, "next_tab", ["n"], "next tab";
    PrevTab, "prev_tab", ["p"], "previous tab";
    LastTab, "last_tab", ["l"], "last used tab";
    GoToTab0, "go_to_tab0", ["0"], "go to tab 0";
    GoToTab1, "go_to_tab1", ["1"], "go to tab 1";
    GoToTab2, "go_to_tab2", ["2"], "go to tab 2";
    GoToTab3, "go_to_tab3", ["3"], "go to tab 3";
    GoToTab4, "go_to_tab4", ["4"], "go to tab 4";
    GoToTab5, "go_to_tab5", ["5"], "go to tab 5";
    GoToTab6, "go_to_tab6", ["6"], "go to tab 6";
    GoToTab7, "go_to_tab7", ["7"], "go to tab 7";
    GoToTab8, "go_to_tab8", ["8"], "go to tab 8";
    GoToTab9, "go_to_tab9", ["9"], "go to tab 9";
    RenameTab, "rename_tab", [","], "rename tab";
    MoveTabLeft, "move_tab_left", ["<"], "move tab left";
    MoveTabRight, "move_tab_right", [">"], "move tab right";
    SplitRight, "split_right", ["%"], "split pane right";
    SplitDown, "split_down", ["\""], "split pane down";
    FocusLeft, "focus_left", ["Left"], "focus pane on the left";
    FocusRight, "focus_right", ["Right"], "focus pane on the right";
    FocusUp, "focus_up", ["Up"], "focus pane above";
    FocusDown, "focus_down", ["Down"], "focus pane below";
    FocusNext, "focus_next", ["o"], "focus next pane";
    ResizeLeft, "resize_left", ["C-Left"], "move pane border left";
    ResizeRight, "resize_right", ["C-Right"], "move pane border right";
    ResizeUp, "resize_up", ["C-Up"], "move pane border up";
    ResizeDown, "resize_down", ["C-Down"], "move pane border down";
    Zoom, "zoom", ["z"], "zoom pane / unzoom";
    ClosePane, "close_pane", ["x"], "close pane (asks)";
    CopyMode, "copy_mode", ["["], "copy mode: scroll, search, select";
    CopyModePageUp, "copy_mode_page_up", ["PageUp"], "copy mode, one page up (as tmux)";
    Paste, "paste", ["]"], "paste the last copied text";
    Help, "help", ["?"], "key help";
    Palette, "palette", [":"], "command palette";
    SendPrefix, "send_prefix", [], "send the prefix key to the program";
    ToggleBroadcast, "toggle_broadcast", ["b"], "broadcast keys to every pane of the tab / stop";
    BroadcastPane, "broadcast_pane", ["B"], "add / remove this pane from the broadcast";
}

impl Action {
    /// The action a `config.toml` name stands for.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }

    pub fn go_to_tab(self) -> Option<usize> {
        const TABS: [Action; 10] = [
            Action::GoToTab0,
            Action::GoToTab1,
            Action::GoToTab2,
            Action::GoToTab3,
            Action::GoToTab4,
            Action::GoToTab5,
            Action::GoToTab6,
            Action::GoToTab7,
            Action::GoToTab8,
            Action::GoToTab9,
        ];
        TABS.iter().position(|a| *a == self)
    }

    pub fn focus_direction(self) -> Option<Direction> {
        match self {
            Action::FocusLeft => Some(Direction::Left),
            Action::FocusRight => Some(Direction::Right),
            Action::FocusUp => Some(Direction::Up),
            Action::FocusDown => Some(Direction::Down),
            _ => None,
        }
    }

    pub fn resize_direction(self) -> Option<Direction> {
        match self {
            Action::ResizeLeft => Some(Direction::Left),
            Action::ResizeRight => Some(Direction::Right),
            Action::ResizeUp => Some(Direction::Up),
            Action::ResizeDown => Some(Direction::Down),
            _ => None,
        }
    }
}
