//! Version order against the distros' own tools: lumen's dpkg order against
//! `dpkg --compare-versions` on thousands of generated pairs (epochs, `~`, `+`, letters, empty
//! and zero digit runs), and RPM order (the `rpm-version` crate) against librpm's
//! `rpm.vercmp` on generated EVR pairs. apk has no oracle on Debian: its table is in
//! `src/scan/version/apk.rs`.
#![allow(clippy::unwrap_used)]

use lumen::scan::Scheme;
use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

/// A small deterministic generator, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Pieces that exercise dpkg's rules: zero runs, empty digit runs, `~` before the end,
/// letters before other punctuation.
const PIECES: &[&str] = &[
    "0", "00", "1", "01", "10", "2", "9", "a", "b", "Z", "~", "~~", "~rc1", "+", "+b1", ".", ".0",
    "dfsg", "+dfsg", "~deb12u1", "~deb12u2", "ubuntu1", "+really", "", "a0",
];

fn upstream(rng: &mut Rng, revision: bool) -> String {
    let mut s = rng
        .pick(&["0", "1", "2", "10", "1.0", "1.2.3", "01", "3.0.11"])
        .to_string();
    for _ in 0..(rng.next() % 4) {
        s.push_str(rng.pick(PIECES));
    }
    if revision && rng.chance(20) {
        s.push_str("-x"); // a hyphen inside the upstream part is allowed with a revision
    }
    s
}

fn deb_version(rng: &mut Rng) -> String {
    let mut v = String::new();
    if rng.chance(15) {
        v.push_str(rng.pick(&["0:", "1:", "2:", "10:"]));
    }
    let with_revision = rng.chance(70);
    v.push_str(&upstream(rng, with_revision));
    if with_revision {
        v.push('-');
        v.push_str(rng.pick(&[
            "0", "1", "2", "1.1", "1+b1", "1~bpo1", "10", "0ubuntu1", "1a",
        ]));
        if rng.chance(30) {
            v.push_str(rng.pick(PIECES));
        }
        if v.ends_with('-') {
            v.push('0');
        }
    }
    v
}

/// A close variant of `v`, where ordering bugs live.
fn mutate(rng: &mut Rng, v: &str) -> String {
    let mut s = v.to_string();
    match rng.next() % 6 {
        0 => s.push_str(rng.pick(&["0", "~", "a", ".0", "+", "~~"])),
        1 => s = s.replacen('1', "01", 1),
        2 => s = s.replacen('.', "~", 1),
        3 => s = s.replacen('0', "", 1),
        4 => s = format!("0:{s}").replacen("0:0:", "0:", 1),
        _ => s = s.replacen("~", "", 1),
    }
    if s.is_empty()
        || !s.starts_with(|c: char| c.is_ascii_digit())
        || s.ends_with('-')
        || s.contains("::")
    {
        v.to_string()
    } else {
        s
    }
}

/// dpkg's verdict for each pair, from one shell reading pairs on stdin.
fn dpkg_oracle(pairs: &[(String, String)]) -> Vec<Option<Ordering>> {
    // Exit 0: true, 1: false, anything else: dpkg refused a version (printed as `!`).
    let script = "while read a b; do dpkg --compare-versions \"$a\" lt \"$b\" 2>/dev/null; r=$?; \
                  if [ $r = 0 ]; then echo '<'; elif [ $r != 1 ]; then echo '!'; \
                  elif dpkg --compare-versions \"$a\" eq \"$b\"; then echo '='; else echo '>'; fi; done";
    let mut child = Command::new("sh")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh with dpkg (this is a Debian machine)");
    let mut input = String::new();
    for (a, b) in pairs {
        input.push_str(&format!("{a} {b}\n"));
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| match l {
            "<" => Some(Ordering::Less),
            "=" => Some(Ordering::Equal),
            ">" => Some(Ordering::Greater),
            _ => None,
        })
        .collect()
}

#[test]
fn dpkg_order_matches_dpkg_compare_versions() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut pairs = Vec::new();
    while pairs.len() < 4000 {
        let a = deb_version(&mut rng);
        let b = if rng.chance(60) {
            mutate(&mut rng, &a)
        } else {
            deb_version(&mut rng)
        };
        pairs.push((a, b));
    }
    let verdicts = dpkg_oracle(&pairs);
    assert_eq!(verdicts.len(), pairs.len());
    // Leave out what dpkg calls bad syntax.
    let (pairs, oracle): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .zip(verdicts)
        .filter_map(|(p, v)| Some((p, v?)))
        .unzip();
    assert!(
        pairs.len() > 3000,
        "only {} valid pairs generated",
        pairs.len()
    );
    let wrong: Vec<String> = pairs
        .iter()
        .zip(&oracle)
        .filter(|((a, b), want)| Scheme::Dpkg.compare(a, b) != **want)
        .map(|((a, b), want)| format!("{a} vs {b}: dpkg says {want:?}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        pairs.len(),
        wrong.join("\n")
    );
    // The cases the issue names are in the sample.
    let has = |f: &dyn Fn(&str, &str) -> bool| pairs.iter().any(|(a, b)| f(a, b));
    assert!(has(&|a, b| a.contains(':') || b.contains(':')));
    assert!(has(&|a, _| a.contains('~')));
    assert!(has(&|a, b| a.contains("00") || b.contains("a0")));
}

fn rpm_evr(rng: &mut Rng) -> String {
    let mut v = String::new();
    if rng.chance(20) {
        v.push_str(rng.pick(&["0:", "1:", "2:"]));
    }
    v.push_str(rng.pick(&["1", "1.0", "2.4.57", "3.0.7", "0.9", "10", "1.01", "5.14.0"]));
    for _ in 0..(rng.next() % 3) {
        v.push_str(rng.pick(&[".1", "a", "~rc1", "^git1", "_1", "0", "~", "^", "b2", ".0"]));
    }
    if rng.chance(80) {
        v.push('-');
        v.push_str(rng.pick(&[
            "1",
            "1.el9",
            "24.el9",
            "27.el9_4",
            "362.8.1.el9_3",
            "0.1",
            "3.fc39",
            "2~beta",
        ]));
    }
    v
}

#[test]
fn rpm_order_matches_librpm() {
    if Command::new("rpm").arg("--version").output().is_err() {
        panic!("rpm is missing; run scripts/install-test-deps.sh (package rpm)");
    }
    let mut rng = Rng(0x0000_ddba_11c0_ffee);
    let mut pairs = Vec::new();
    while pairs.len() < 2000 {
        let a = rpm_evr(&mut rng);
        let b = if rng.chance(50) {
            format!("{a}{}", rng.pick(&["", "~", "^", ".0", "a"]))
        } else {
            rpm_evr(&mut rng)
        };
        pairs.push((a, b));
    }
    let mut lua = String::from("%{lua: ");
    for (a, b) in &pairs {
        lua.push_str(&format!(
            "print(rpm.vercmp(\"{a}\", \"{b}\")) print(\" \") "
        ));
    }
    lua.push('}');
    let out = Command::new("rpm").args(["--eval", &lua]).output().unwrap();
    let verdicts: Vec<i32> = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(
        verdicts.len(),
        pairs.len(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wrong: Vec<String> = pairs
        .iter()
        .zip(&verdicts)
        .filter(|((a, b), want)| Scheme::Rpm.compare(a, b) != (**want).cmp(&0))
        .map(|((a, b), want)| format!("{a} vs {b}: librpm says {want}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        pairs.len(),
        wrong.join("\n")
    );
}
