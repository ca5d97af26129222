//! The terminal pane: our emulator module over `alacritty_terminal`, drawn with ratatui.
