//! The layer stack (helix's compositor): every dialog is a layer above the panes. Keys and
//! pastes go to the top layer, a mouse event never passes a layer, and drawing walks the stack
//! bottom-up over the panes. Where a new layer goes is one function, [`insert_at`].

use crate::app::approval::Approval;
use crate::app::popup::Popup;
use crate::app::prompt::PromptDialog;
use crate::app::vault::UnlockState;

/// A dialog on screen.
pub enum Layer {
    /// A question from an SSH session (host key, password, passphrase, keyboard-interactive).
    Prompt(PromptDialog),
    /// The vault passphrase dialog.
    Unlock(UnlockState),
    /// Confirmations, the palette, help, the new-tab prompt, notices.
    Popup(Popup),
    /// The copilot's card for a proposed command.
    Approval(Approval),
    /// Prefix R: the runbook picker, a parameter form, a runbook's plan.
    Runbook(Box<crate::app::runbooks::RunbookDialog>),
}

/// How urgent a layer is: a more urgent one always sits above a less urgent one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// Opened by the user; replaced by what the user opens next.
    Popup,
    /// A proposed command waits for the operator's keystroke.
    Approval,
    /// The vault is needed (by the user or by a waiting login).
    Unlock,
    /// A connection waits for an answer: always on top.
    Question,
}

impl Layer {
    pub fn rank(&self) -> Rank {
        match self {
            Layer::Prompt(_) => Rank::Question,
            Layer::Unlock(_) => Rank::Unlock,
            Layer::Popup(_) | Layer::Runbook(_) => Rank::Popup,
            Layer::Approval(_) => Rank::Approval,
        }
    }
}

/// Where a layer of `new` rank goes in a stack whose ranks are `stack` (bottom first): above
/// every layer of a lower rank and below every layer of a higher one. Among equals, questions
/// queue (the first asked is answered first, so a new one goes below the others), while a
/// dialog the user opens goes on top of its equals.
pub fn insert_at(stack: &[Rank], new: Rank) -> usize {
    match new {
        Rank::Question => stack.iter().position(|r| *r >= new).unwrap_or(stack.len()),
        _ => stack.iter().position(|r| *r > new).unwrap_or(stack.len()),
    }
}

/// The stack, bottom first.
#[derive(Default)]
pub struct Layers {
    stack: Vec<Layer>,
}

impl Layers {
    pub fn push(&mut self, layer: Layer) {
        let ranks: Vec<Rank> = self.stack.iter().map(Layer::rank).collect();
        let at = insert_at(&ranks, layer.rank());
        self.stack.insert(at, layer);
    }

    pub fn is_empty(&self) -> bool {
        self.stack.is_empty()
    }

    pub fn len(&self) -> usize {
        self.stack.len()
    }

    pub fn top(&self) -> Option<&Layer> {
        self.stack.last()
    }

    pub fn top_mut(&mut self) -> Option<&mut Layer> {
        self.stack.last_mut()
    }

    /// Remove the top layer.
    pub fn pop(&mut self) -> Option<Layer> {
        self.stack.pop()
    }

    /// Bottom-up, as they are drawn.
    pub fn iter(&self) -> impl Iterator<Item = &Layer> {
        self.stack.iter()
    }

    /// The topmost popup, if any.
    pub fn popup(&self) -> Option<&Popup> {
        self.stack.iter().rev().find_map(|l| match l {
            Layer::Popup(p) => Some(p),
            _ => None,
        })
    }

    /// Close the popup opened last (the highest one; popups stack in the order opened).
    pub fn remove_newest_popup(&mut self) -> Option<Popup> {
        let i = self
            .stack
            .iter()
            .rposition(|l| matches!(l, Layer::Popup(_)))?;
        match self.stack.remove(i) {
            Layer::Popup(p) => Some(p),
            _ => None,
        }
    }

    /// The unlock dialog, if open.
    pub fn unlock(&self) -> Option<&UnlockState> {
        self.stack.iter().find_map(|l| match l {
            Layer::Unlock(u) => Some(u),
            _ => None,
        })
    }

    pub fn unlock_mut(&mut self) -> Option<&mut UnlockState> {
        self.stack.iter_mut().find_map(|l| match l {
            Layer::Unlock(u) => Some(u),
            _ => None,
        })
    }

    /// Close the unlock dialog wherever it is in the stack.
    pub fn remove_unlock(&mut self) -> Option<UnlockState> {
        let i = self
            .stack
            .iter()
            .position(|l| matches!(l, Layer::Unlock(_)))?;
        match self.stack.remove(i) {
            Layer::Unlock(u) => Some(u),
            _ => None,
        }
    }

    /// The approval card, if one is open.
    pub fn approval_mut(&mut self) -> Option<&mut Approval> {
        self.stack.iter_mut().find_map(|l| match l {
            Layer::Approval(a) => Some(a),
            _ => None,
        })
    }

    pub fn approval(&self) -> Option<&Approval> {
        self.stack.iter().find_map(|l| match l {
            Layer::Approval(a) => Some(a),
            _ => None,
        })
    }

    /// Close the approval card wherever it is.
    pub fn remove_approval(&mut self) -> Option<Approval> {
        let i = self
            .stack
            .iter()
            .position(|l| matches!(l, Layer::Approval(_)))?;
        match self.stack.remove(i) {
            Layer::Approval(a) => Some(a),
            _ => None,
        }
    }

    /// How many SSH questions wait.
    pub fn questions(&self) -> usize {
        self.stack
            .iter()
            .filter(|l| matches!(l, Layer::Prompt(_)))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Rank::*;

    /// Build a stack by pushing ranks in order; return the final order.
    fn order(pushes: &[Rank]) -> Vec<(Rank, usize)> {
        let mut stack: Vec<(Rank, usize)> = Vec::new();
        for (i, r) in pushes.iter().enumerate() {
            let ranks: Vec<Rank> = stack.iter().map(|(r, _)| *r).collect();
            stack.insert(insert_at(&ranks, *r), (*r, i));
        }
        stack
    }

    #[test]
    fn questions_sit_above_an_open_palette_and_queue() {
        // Palette open, then two questions, then the user opens help (under the questions).
        let got = order(&[Popup, Question, Question, Popup]);
        assert_eq!(got, [(Popup, 0), (Popup, 3), (Question, 2), (Question, 1)]);
        // The top is the first question asked.
        assert_eq!(got.last(), Some(&(Question, 1)));
    }

    #[test]
    fn an_approval_card_sits_above_popups_and_below_unlock_and_questions() {
        let got = order(&[Question, Approval, Popup, Unlock]);
        assert_eq!(got, [(Popup, 2), (Approval, 1), (Unlock, 3), (Question, 0)]);
    }

    #[test]
    fn unlock_sits_between_popups_and_questions() {
        let got = order(&[Question, Unlock, Popup]);
        assert_eq!(got, [(Popup, 2), (Unlock, 1), (Question, 0)]);
        let got = order(&[Popup, Unlock, Popup]);
        assert_eq!(got, [(Popup, 0), (Popup, 2), (Unlock, 1)]);
    }

    #[test]
    fn any_order_of_pushes_keeps_ranks_sorted() {
        let ranks = [Popup, Approval, Unlock, Question];
        // Every sequence of up to five pushes.
        for n in 0..=5u32 {
            for code in 0..4usize.pow(n) {
                let mut c = code;
                let seq: Vec<Rank> = (0..n)
                    .map(|_| {
                        let r = ranks[c % 4];
                        c /= 4;
                        r
                    })
                    .collect();
                let got = order(&seq);
                assert!(
                    got.windows(2).all(|w| w[0].0 <= w[1].0),
                    "{seq:?} → {got:?}"
                );
            }
        }
    }
}
