//! The split layout of one tab: a binary tree of panes, its geometry, focus by direction,
//! resizing and zoom. Pure data: no drawing, no I/O.

use ratatui::layout::Rect;
use serde::{Deserialize, Serialize};

/// Identifies a pane for its whole life, across tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PaneId(pub u64);

/// How a split lays out its two children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Side by side (tmux `split-window -h`, `%`).
    Right,
    /// One above the other (tmux `split-window -v`, `"`).
    Down,
}

/// A direction for focus and resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    Left,
    Right,
    Up,
    Down,
}

/// The smallest share of a split either child keeps when resizing, in per-mille.
const MIN_SHARE: u32 = 50;
const FULL_SHARE: u32 = 1000;

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Leaf(PaneId),
    Split {
        split: Split,
        /// The first child's share of the space, in per-mille.
        share: u32,
        first: Box<Node>,
        second: Box<Node>,
    },
}

/// The panes of one tab.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    root: Node,
    zoomed: Option<PaneId>,
}

impl Layout {
    pub fn new(pane: PaneId) -> Self {
        Self {
            root: Node::Leaf(pane),
            zoomed: None,
        }
    }

    /// Every pane, in reading order (left to right, top to bottom of the tree).
    pub fn panes(&self) -> Vec<PaneId> {
        fn walk(n: &Node, out: &mut Vec<PaneId>) {
            match n {
                Node::Leaf(p) => out.push(*p),
                Node::Split { first, second, .. } => {
                    walk(first, out);
                    walk(second, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    pub fn contains(&self, pane: PaneId) -> bool {
        self.panes().contains(&pane)
    }

    pub fn len(&self) -> usize {
        self.panes().len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// Split `target` in two, `new` taking the right or lower half. Unzooms.
    pub fn split(&mut self, target: PaneId, new: PaneId, split: Split) -> bool {
        self.split_percent(target, new, split, 50)
    }

    /// Like [`Layout::split`], `target` keeping `percent` of the space (the copilot's side
    /// pane takes less than half).
    pub fn split_percent(
        &mut self,
        target: PaneId,
        new: PaneId,
        split: Split,
        percent: u16,
    ) -> bool {
        let share = FULL_SHARE * u32::from(percent.clamp(10, 90)) / 100;
        fn go(n: &mut Node, target: PaneId, new: PaneId, split: Split, share: u32) -> bool {
            match n {
                Node::Leaf(p) if *p == target => {
                    *n = Node::Split {
                        split,
                        share,
                        first: Box::new(Node::Leaf(target)),
                        second: Box::new(Node::Leaf(new)),
                    };
                    true
                }
                Node::Leaf(_) => false,
                Node::Split { first, second, .. } => {
                    go(first, target, new, split, share) || go(second, target, new, split, share)
                }
            }
        }
        let done = go(&mut self.root, target, new, split, share);
        if done {
            self.zoomed = None;
        }
        done
    }

    /// Remove a pane; its sibling takes its space. Returns false for an unknown pane or the
    /// last one (a tab always has a pane; the caller closes the tab instead).
    pub fn remove(&mut self, pane: PaneId) -> bool {
        fn go(n: &mut Node, pane: PaneId) -> bool {
            let Node::Split { first, second, .. } = n else {
                return false;
            };
            let keep = if matches!(**first, Node::Leaf(p) if p == pane) {
                Some((**second).clone())
            } else if matches!(**second, Node::Leaf(p) if p == pane) {
                Some((**first).clone())
            } else {
                None
            };
            match keep {
                Some(k) => {
                    *n = k;
                    true
                }
                None => go(first, pane) || go(second, pane),
            }
        }
        let done = go(&mut self.root, pane);
        if done && self.zoomed == Some(pane) {
            self.zoomed = None;
        }
        done
    }

    pub fn zoomed(&self) -> Option<PaneId> {
        self.zoomed
    }

    /// Zoom `pane` to the whole tab, or back. A single pane does not zoom.
    pub fn toggle_zoom(&mut self, pane: PaneId) {
        self.zoomed = match self.zoomed {
            Some(_) => None,
            None if self.len() > 1 && self.contains(pane) => Some(pane),
            None => None,
        };
    }

    /// Each visible pane's rectangle within `area`. Together they cover `area` exactly and
    /// never overlap (a pane may get an empty rectangle when `area` is tiny).
    pub fn rects(&self, area: Rect) -> Vec<(PaneId, Rect)> {
        if let Some(z) = self.zoomed {
            return vec![(z, area)];
        }
        let mut out = Vec::new();
        place(&self.root, area, &mut out);
        out
    }

    /// The pane next to `from` in `dir`: of the panes that touch `from`'s edge on that side,
    /// the one overlapping it most.
    pub fn neighbor(&self, from: PaneId, dir: Direction, area: Rect) -> Option<PaneId> {
        let rects = self.rects(area);
        let cur = rects.iter().find(|(p, _)| *p == from)?.1;
        rects
            .iter()
            .filter(|(p, r)| *p != from && !r.is_empty())
            .filter_map(|(p, r)| {
                let (touches, overlap) = match dir {
                    Direction::Left => (
                        r.right() == cur.x,
                        span_overlap(r.y, r.height, cur.y, cur.height),
                    ),
                    Direction::Right => (
                        r.x == cur.right(),
                        span_overlap(r.y, r.height, cur.y, cur.height),
                    ),
                    Direction::Up => (
                        r.bottom() == cur.y,
                        span_overlap(r.x, r.width, cur.x, cur.width),
                    ),
                    Direction::Down => (
                        r.y == cur.bottom(),
                        span_overlap(r.x, r.width, cur.x, cur.width),
                    ),
                };
                (touches && overlap > 0).then_some((overlap, *p))
            })
            .max_by_key(|(overlap, p)| (*overlap, std::cmp::Reverse(*p)))
            .map(|(_, p)| p)
    }

    /// Move the border of `pane` on side `dir` by `cells` (tmux `resize-pane -L/-R/-U/-D`):
    /// the nearest enclosing split of the matching axis moves its divider that way.
    pub fn resize(&mut self, pane: PaneId, dir: Direction, cells: u16, area: Rect) -> bool {
        fn go(n: &mut Node, pane: PaneId, axis: Split, delta: i64, area: Rect) -> Option<bool> {
            let Node::Split {
                split,
                share,
                first,
                second,
            } = n
            else {
                return match n {
                    Node::Leaf(p) if *p == pane => Some(false),
                    _ => None,
                };
            };
            let (a, b) = halves(area, *split, *share);
            let found_in_first = go(first, pane, axis, delta, a);
            let found = found_in_first.or_else(|| go(second, pane, axis, delta, b))?;
            if found || *split != axis {
                return Some(found);
            }
            let total = match axis {
                Split::Right => area.width,
                Split::Down => area.height,
            } as i64;
            if total < 2 {
                return Some(true);
            }
            let first_cells = match axis {
                Split::Right => a.width,
                Split::Down => a.height,
            } as i64;
            let want = (first_cells + delta).clamp(1, total - 1);
            let new_share = ((want * FULL_SHARE as i64 + total / 2) / total) as u32;
            *share = new_share.clamp(MIN_SHARE, FULL_SHARE - MIN_SHARE);
            Some(true)
        }
        let (axis, delta) = match dir {
            Direction::Left => (Split::Right, -(cells as i64)),
            Direction::Right => (Split::Right, cells as i64),
            Direction::Up => (Split::Down, -(cells as i64)),
            Direction::Down => (Split::Down, cells as i64),
        };
        go(&mut self.root, pane, axis, delta, area) == Some(true)
    }
}

/// The rectangle a pane's border is drawn on when a tab shows several panes: its own
/// rectangle grown by one column to the right and one row down where another pane follows,
/// so two neighbours share one border line (tmux draws one separator) instead of two.
pub fn frame(rect: Rect, area: Rect) -> Rect {
    let wider = u16::from(rect.right() < area.right());
    let taller = u16::from(rect.bottom() < area.bottom());
    Rect::new(rect.x, rect.y, rect.width + wider, rect.height + taller)
}

/// Inside the border [`frame`] draws: what the pane's program gets (its PTY size). It lies
/// within the pane's own rectangle, so the insides of two panes never overlap.
pub fn framed_inner(rect: Rect, area: Rect) -> Rect {
    let f = frame(rect, area);
    Rect::new(
        f.x + 1,
        f.y + 1,
        f.width.saturating_sub(2),
        f.height.saturating_sub(2),
    )
}

fn span_overlap(a: u16, alen: u16, b: u16, blen: u16) -> u16 {
    let start = a.max(b);
    let end = (a + alen).min(b + blen);
    end.saturating_sub(start)
}

fn halves(area: Rect, split: Split, share: u32) -> (Rect, Rect) {
    match split {
        Split::Right => {
            let w = (area.width as u32 * share / FULL_SHARE) as u16;
            (
                Rect::new(area.x, area.y, w, area.height),
                Rect::new(area.x + w, area.y, area.width - w, area.height),
            )
        }
        Split::Down => {
            let h = (area.height as u32 * share / FULL_SHARE) as u16;
            (
                Rect::new(area.x, area.y, area.width, h),
                Rect::new(area.x, area.y + h, area.width, area.height - h),
            )
        }
    }
}

fn place(n: &Node, area: Rect, out: &mut Vec<(PaneId, Rect)>) {
    match n {
        Node::Leaf(p) => out.push((*p, area)),
        Node::Split {
            split,
            share,
            first,
            second,
        } => {
            let (a, b) = halves(area, *split, *share);
            place(first, a, out);
            place(second, b, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AREA: Rect = Rect {
        x: 0,
        y: 1,
        width: 120,
        height: 40,
    };

    #[test]
    fn split_right_then_down() {
        let mut l = Layout::new(PaneId(1));
        assert!(l.split(PaneId(1), PaneId(2), Split::Right));
        assert!(l.split(PaneId(2), PaneId(3), Split::Down));
        let r = l.rects(AREA);
        assert_eq!(r[0], (PaneId(1), Rect::new(0, 1, 60, 40)));
        assert_eq!(r[1], (PaneId(2), Rect::new(60, 1, 60, 20)));
        assert_eq!(r[2], (PaneId(3), Rect::new(60, 21, 60, 20)));
        assert_eq!(
            l.neighbor(PaneId(1), Direction::Right, AREA),
            Some(PaneId(2))
        );
        assert_eq!(l.neighbor(PaneId(3), Direction::Up, AREA), Some(PaneId(2)));
        assert_eq!(
            l.neighbor(PaneId(3), Direction::Left, AREA),
            Some(PaneId(1))
        );
        assert_eq!(l.neighbor(PaneId(1), Direction::Left, AREA), None);
    }

    #[test]
    fn remove_gives_space_to_sibling() {
        let mut l = Layout::new(PaneId(1));
        l.split(PaneId(1), PaneId(2), Split::Right);
        l.split(PaneId(2), PaneId(3), Split::Down);
        assert!(l.remove(PaneId(2)));
        assert_eq!(
            l.rects(AREA),
            vec![
                (PaneId(1), Rect::new(0, 1, 60, 40)),
                (PaneId(3), Rect::new(60, 1, 60, 40))
            ]
        );
        assert!(l.remove(PaneId(3)));
        assert!(!l.remove(PaneId(1)), "the last pane stays");
    }

    #[test]
    fn resize_moves_the_nearest_divider() {
        let mut l = Layout::new(PaneId(1));
        l.split(PaneId(1), PaneId(2), Split::Right);
        assert!(l.resize(PaneId(1), Direction::Right, 6, AREA));
        assert_eq!(l.rects(AREA)[0].1.width, 66);
        assert!(l.resize(PaneId(2), Direction::Left, 12, AREA));
        assert_eq!(l.rects(AREA)[0].1.width, 54);
        assert!(
            !l.resize(PaneId(1), Direction::Down, 1, AREA),
            "no vertical split"
        );
    }

    #[test]
    fn zoom_shows_one_pane() {
        let mut l = Layout::new(PaneId(1));
        l.toggle_zoom(PaneId(1));
        assert_eq!(l.zoomed(), None, "a single pane does not zoom");
        l.split(PaneId(1), PaneId(2), Split::Down);
        l.toggle_zoom(PaneId(2));
        assert_eq!(l.rects(AREA), vec![(PaneId(2), AREA)]);
        l.toggle_zoom(PaneId(2));
        assert_eq!(l.rects(AREA).len(), 2);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Split(usize, bool),
        Remove(usize),
        Resize(usize, u8, u16),
        Zoom(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0usize..16, any::<bool>()).prop_map(|(i, d)| Op::Split(i, d)),
            (0usize..16).prop_map(Op::Remove),
            (0usize..16, 0u8..4, 0u16..50).prop_map(|(i, d, c)| Op::Resize(i, d, c)),
            (0usize..16).prop_map(Op::Zoom),
        ]
    }

    proptest! {
        // A fixed seed, so CI runs the same cases every time.
        #![proptest_config(proptest::prelude::ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0008),
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn panes_cover_the_tab_and_never_overlap(
            ops in proptest::collection::vec(op(), 0..40),
            w in 1u16..300, h in 1u16..100,
        ) {
            let area = Rect::new(3, 2, w, h);
            let mut l = Layout::new(PaneId(0));
            let mut next = 1;
            for o in ops {
                let panes = l.panes();
                let pick = |i: usize| panes[i % panes.len()];
                match o {
                    Op::Split(i, right) => {
                        l.split(pick(i), PaneId(next), if right { Split::Right } else { Split::Down });
                        next += 1;
                    }
                    Op::Remove(i) => { l.remove(pick(i)); }
                    Op::Resize(i, d, c) => {
                        let dir = [Direction::Left, Direction::Right, Direction::Up, Direction::Down][d as usize];
                        l.resize(pick(i), dir, c, area);
                    }
                    Op::Zoom(i) => l.toggle_zoom(pick(i)),
                }
                let rects = l.rects(area);
                let cells: u32 = rects.iter().map(|(_, r)| r.area()).sum();
                prop_assert_eq!(cells, area.area());
                for (i, (_, a)) in rects.iter().enumerate() {
                    prop_assert!(a.x >= area.x && a.right() <= area.right());
                    prop_assert!(a.y >= area.y && a.bottom() <= area.bottom());
                    for (_, b) in &rects[i + 1..] {
                        prop_assert!(a.intersection(*b).is_empty(), "{:?} overlaps {:?}", a, b);
                    }
                }
                // Framed, neighbours share their border line and keep their insides apart.
                for (_, a) in &rects {
                    let (fa, ia) = (frame(*a, area), framed_inner(*a, area));
                    prop_assert!(fa.right() <= area.right() && fa.bottom() <= area.bottom());
                    prop_assert!(ia.is_empty() || a.contains(ia.as_position()) && ia.right() <= a.right() && ia.bottom() <= a.bottom());
                    for (_, b) in &rects {
                        let fb = frame(*b, area);
                        if a.right() == b.x && !a.is_empty() && !b.is_empty() {
                            prop_assert_eq!(fa.right() - 1, fb.x, "one shared column");
                        }
                        if a.bottom() == b.y && !a.is_empty() && !b.is_empty() {
                            prop_assert_eq!(fa.bottom() - 1, fb.y, "one shared row");
                        }
                    }
                }
                let mut ids = l.panes();
                ids.sort();
                ids.dedup();
                prop_assert_eq!(ids.len(), l.len());
            }
        }
    }
}
