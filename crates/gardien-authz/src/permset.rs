//! Permission keys interned to small integers, and sets of them as bitsets.
//!
//! A deployment's catalog has a few dozen keys, so a role's permissions, a
//! member's grant overrides and deny overrides each fit in two machine words
//! kept inline (no allocation, one cache line); a larger catalog spills to
//! the heap and stays correct.

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use gardien_core::PermissionKey;

/// A permission key's number in this index's [`Interner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct PermId(u32);

impl PermId {
    fn word_and_bit(self) -> (usize, u64) {
        ((self.0 / 64) as usize, 1u64 << (self.0 % 64))
    }
}

/// A set of interned permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PermSet {
    words: SmallVec<[u64; 2]>,
}

impl PermSet {
    pub(crate) fn contains(&self, id: PermId) -> bool {
        let (word, bit) = id.word_and_bit();
        self.words.get(word).is_some_and(|w| w & bit != 0)
    }

    pub(crate) fn insert(&mut self, id: PermId) {
        let (word, bit) = id.word_and_bit();
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= bit;
    }

    pub(crate) fn remove(&mut self, id: PermId) {
        let (word, bit) = id.word_and_bit();
        if let Some(w) = self.words.get_mut(word) {
            *w &= !bit;
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = PermId> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            (0..64u32)
                .filter(move |bit| word & (1u64 << bit) != 0)
                .map(move |bit| PermId(i as u32 * 64 + bit))
        })
    }
}

/// Permission keys ↔ numbers. Append-only: a number, once given, always
/// names the same key, so a reader holding a newer interner than the data it
/// reads still decodes it right (see the ordering rule in `index.rs`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    ids: FxHashMap<PermissionKey, PermId>,
    keys: Vec<PermissionKey>,
}

impl Interner {
    /// The number of a key seen before; `None` means no role or override of
    /// this index has ever mentioned it.
    pub(crate) fn get(&self, key: &PermissionKey) -> Option<PermId> {
        self.ids.get(key).copied()
    }

    pub(crate) fn intern(&mut self, key: &PermissionKey) -> PermId {
        if let Some(id) = self.ids.get(key) {
            return *id;
        }
        let id = PermId(self.keys.len() as u32);
        self.keys.push(key.clone());
        self.ids.insert(key.clone(), id);
        id
    }

    pub(crate) fn key(&self, id: PermId) -> Option<&PermissionKey> {
        self.keys.get(id.0 as usize)
    }

    pub(crate) fn set_of<'a>(
        &mut self,
        keys: impl IntoIterator<Item = &'a PermissionKey>,
    ) -> PermSet {
        let mut set = PermSet::default();
        for key in keys {
            set.insert(self.intern(key));
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_holds_exactly_what_was_inserted_across_words() {
        let mut set = PermSet::default();
        for id in [0, 5, 63, 64, 127, 128, 300] {
            set.insert(PermId(id));
        }
        set.remove(PermId(5));
        set.remove(PermId(1000));
        let ids: Vec<u32> = set.iter().map(|p| p.0).collect();
        assert_eq!(ids, vec![0, 63, 64, 127, 128, 300]);
        assert!(set.contains(PermId(300)));
        assert!(!set.contains(PermId(5)));
        assert!(!set.contains(PermId(5000)));
    }

    #[test]
    fn interner_gives_stable_numbers() {
        let mut interner = Interner::default();
        let a = PermissionKey::parse("mail.read").unwrap();
        let b = PermissionKey::parse("orders.read").unwrap();
        let ia = interner.intern(&a);
        let ib = interner.intern(&b);
        assert_ne!(ia, ib);
        assert_eq!(interner.intern(&a), ia);
        assert_eq!(interner.key(ib), Some(&b));
        assert_eq!(interner.get(&PermissionKey::parse("x.y").unwrap()), None);
    }
}
