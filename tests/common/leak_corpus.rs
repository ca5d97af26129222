//! The leak corpus (`tests/fixtures/ai/leak_corpus.txt`): terminal text as an operator might
//! have it on screen, with every secret in it marked `⟦…⟧`, and the check that no piece of a
//! secret survived.

const CORPUS: &str = include_str!("../fixtures/ai/leak_corpus.txt");

/// The corpus without markers, the secrets it holds, and its lines that hold none.
pub fn corpus() -> (String, Vec<String>, Vec<String>) {
    let mut text = String::new();
    let mut secrets = Vec::new();
    let mut ordinary = Vec::new();
    let mut open: Option<String> = None;
    for line in CORPUS.split_inclusive('\n') {
        let mut plain_line = open.is_none() && !line.contains('⟦');
        let mut rest = line;
        while !rest.is_empty() {
            match &mut open {
                None => match rest.find('⟦') {
                    Some(i) => {
                        text.push_str(&rest[..i]);
                        open = Some(String::new());
                        rest = &rest[i + '⟦'.len_utf8()..];
                    }
                    None => {
                        text.push_str(rest);
                        rest = "";
                    }
                },
                Some(secret) => match rest.find('⟧') {
                    Some(i) => {
                        secret.push_str(&rest[..i]);
                        text.push_str(&rest[..i]);
                        secrets.push(open.take().unwrap());
                        rest = &rest[i + '⟧'.len_utf8()..];
                        plain_line = false;
                    }
                    None => {
                        secret.push_str(rest);
                        text.push_str(rest);
                        rest = "";
                    }
                },
            }
        }
        if plain_line {
            ordinary.push(line.trim_end_matches('\n').to_string());
        }
    }
    (text, secrets, ordinary)
}

/// The pieces of `secret`, `window` characters long (the whole secret when shorter), that
/// `output` contains.
pub fn leaks(output: &str, secret: &str, window: usize) -> Vec<String> {
    let chars: Vec<char> = secret.chars().collect();
    let window = window.min(chars.len());
    chars
        .windows(window)
        .map(|w| w.iter().collect::<String>())
        .filter(|piece| output.contains(piece.as_str()))
        .collect()
}
