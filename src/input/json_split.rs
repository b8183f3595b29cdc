//! The fast way through a JSON file: a stream of objects read in large chunks and cut, by its
//! brackets and quotes alone, into pieces small enough to parse from memory. A top-level
//! object's `items` array (`kubectl get … -o json`, a `kind: List`) is cut into its elements, so
//! neither a dump nor its Pods are ever held whole. serde_json reads each piece from a slice,
//! several times faster than byte by byte from a reader (docs/benchmarks.md).
//!
//! Nothing is checked here beyond where values end: each piece is parsed by the same seeds as the
//! slow path. Input outside this shape (a top-level array or scalar, a head or document that is
//! not UTF-8, brackets that do not close) is [`Split::Unsupported`]: the caller reads it the slow
//! way, which reports its errors exactly as before. Items are handed on unchecked: their reader
//! copies them (compacted by `compact_into` unless read by hand) and checks their UTF-8.

use std::io::{self, Read};
use std::ops::Range;

/// One piece of the input, in input order.
pub(crate) enum Piece<'a> {
    /// A document's text up to its `items` array, closed as `…"items":[]}`: what the items are
    /// read in the light of (a typed list's kind).
    Head(&'a [u8]),
    /// One element of the document's `items` array, and where it is in the input.
    Item(&'a [u8], Range<usize>),
    /// A whole document, its `items` array (if it was cut) left as `[]`; where it is in the
    /// input if it was not cut (its text is then the input's own).
    Document(&'a [u8], Option<Range<usize>>),
}

/// Why splitting stopped.
pub(crate) enum Split<E> {
    /// Not a stream of well-formed objects in UTF-8: to be read the slow way.
    Unsupported,
    Io(io::Error),
    /// What the receiver of the pieces returned.
    Stopped(E),
}

impl<E> From<io::Error> for Split<E> {
    fn from(e: io::Error) -> Self {
        Split::Io(e)
    }
}

/// How much is read at a time.
const CHUNK: usize = 1 << 20;

/// Cuts `reader` into pieces, handing each to `on_piece` as soon as it is complete.
pub(crate) fn split<E>(
    reader: impl Read,
    on_piece: &mut dyn FnMut(Piece<'_>) -> Result<(), E>,
) -> Result<(), Split<E>> {
    let mut src = Source::new(reader);
    let mut skeleton = Vec::new();
    loop {
        src.keep = src.pos;
        match src.skip_ws()? {
            None => return Ok(()),
            Some(b'{') => {}
            Some(_) => return Err(Split::Unsupported),
        }
        skeleton.clear();
        // The part of the document not yet copied into the skeleton starts here.
        let mut copied_to = src.pos;
        src.pos += 1;
        let mut depth = 1usize;
        let mut expect_key = true;
        let mut items_seen = false;
        let mut cut = false;
        while depth > 0 {
            let b = src.next_structural()?.ok_or(Split::Unsupported)?;
            match b {
                b'"' => {
                    let key_start = src.pos + 1;
                    src.skip_string()?;
                    let is_key = depth == 1 && expect_key;
                    expect_key = false;
                    // Only the first `items` key counts (a second one is refused when read).
                    if is_key && !items_seen && src.slice(key_start, src.pos - 1) == b"items" {
                        items_seen = true;
                        if src.skip_ws()? != Some(b':') {
                            return Err(Split::Unsupported);
                        }
                        src.pos += 1;
                        if src.skip_ws()? == Some(b'[') {
                            cut = true;
                            skeleton.extend_from_slice(src.slice(copied_to, src.pos));
                            skeleton.extend_from_slice(b"[]");
                            let head = skeleton.len();
                            skeleton.push(b'}');
                            piece(on_piece, Piece::Head(&skeleton))?;
                            skeleton.truncate(head);
                            src.pos += 1;
                            split_items(&mut src, on_piece)?;
                            copied_to = src.pos;
                            src.keep = copied_to;
                        }
                    }
                }
                // A value within the document: nothing in it is cut.
                b'{' | b'[' => {
                    src.pos += 1;
                    src.skip_container()?;
                }
                b'}' | b']' => {
                    src.pos += 1;
                    depth -= 1;
                }
                _ => {
                    // A comma: the next string at the top of the object is a key.
                    expect_key = depth == 1;
                    src.pos += 1;
                }
            }
        }
        skeleton.extend_from_slice(src.slice(copied_to, src.pos));
        let place = (!cut).then_some(copied_to..src.pos);
        piece(on_piece, Piece::Document(&skeleton, place))?;
    }
}

/// The text at each of `places` (as `split` gave them: in input order, none overlapping), read
/// from `reader` a chunk at a time; what lies between them is read past, never held.
pub(crate) fn texts_at<E>(
    reader: impl Read,
    places: &[Range<usize>],
    on_text: &mut dyn FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), Split<E>> {
    let mut src = Source::new(reader);
    for place in places {
        if place.start < src.keep || place.end < place.start {
            return Err(Split::Unsupported);
        }
        src.keep = place.start;
        while src.base + src.buf.len() < place.end {
            if !src.more()? {
                // Shorter than it was.
                return Err(Split::Unsupported);
            }
        }
        on_text(src.slice(place.start, place.end)).map_err(Split::Stopped)?;
    }
    Ok(())
}

fn piece<E>(
    on_piece: &mut dyn FnMut(Piece<'_>) -> Result<(), E>,
    piece: Piece<'_>,
) -> Result<(), Split<E>> {
    // An item is checked by its reader, after `compact_into` (a third of the bytes), on
    // whichever thread reads it.
    if let Piece::Head(bytes) | Piece::Document(bytes, _) = &piece
        && crate::util::utf8(bytes).is_none()
    {
        return Err(Split::Unsupported);
    }
    on_piece(piece).map_err(Split::Stopped)
}

/// The elements of an `items` array whose `[` was just read, through its `]`.
fn split_items<E, R: Read>(
    src: &mut Source<R>,
    on_piece: &mut dyn FnMut(Piece<'_>) -> Result<(), E>,
) -> Result<(), Split<E>> {
    if src.skip_ws()? == Some(b']') {
        src.pos += 1;
        return Ok(());
    }
    loop {
        let start = src.pos;
        src.keep = start;
        src.skip_value()?;
        piece(
            on_piece,
            Piece::Item(src.slice(start, src.pos), start..src.pos),
        )?;
        match src.skip_ws()? {
            Some(b',') => src.pos += 1,
            Some(b']') => {
                src.pos += 1;
                return Ok(());
            }
            _ => return Err(Split::Unsupported),
        }
        if matches!(src.skip_ws()?, Some(b']') | None) {
            // A trailing comma: not JSON.
            return Err(Split::Unsupported);
        }
    }
}

/// The input, read a chunk at a time into one buffer; positions count from the input's start.
struct Source<R> {
    reader: R,
    buf: Vec<u8>,
    /// The input position of `buf[0]`.
    base: usize,
    pos: usize,
    /// Nothing before this position is needed any more.
    keep: usize,
    eof: bool,
}

/// Bytes that end a run of bytes the structure does not care about.
static STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b'"' as usize] = true;
    table[b'{' as usize] = true;
    table[b'}' as usize] = true;
    table[b'[' as usize] = true;
    table[b']' as usize] = true;
    table[b',' as usize] = true;
    table
};

impl<R: Read> Source<R> {
    fn new(reader: R) -> Self {
        Source {
            reader,
            buf: Vec::with_capacity(CHUNK),
            base: 0,
            pos: 0,
            keep: 0,
            eof: false,
        }
    }

    fn slice(&self, from: usize, to: usize) -> &[u8] {
        &self.buf[from - self.base..to - self.base]
    }

    fn rest(&self) -> &[u8] {
        &self.buf[self.pos - self.base..]
    }

    /// Reads another chunk (dropping what is no longer kept); false at the end of input.
    fn more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        // (`keep` can be past what was read: `texts_at` skipping to the next place.)
        let unneeded = (self.keep - self.base).min(self.buf.len());
        if unneeded > 0 && unneeded >= self.buf.len() / 2 {
            self.buf.drain(..unneeded);
            self.base += unneeded;
        }
        // Read into spare capacity: zero-filling each chunk first cost 3% of an offline run.
        let len = self.buf.len();
        self.buf.reserve(CHUNK);
        let read = (&mut self.reader)
            .take(CHUNK as u64)
            .read_to_end(&mut self.buf)
            .inspect_err(|_| self.buf.truncate(len))?;
        self.eof = read == 0;
        Ok(read > 0)
    }

    /// The next byte `wanted` takes (not consumed), reading on as needed; None at the end.
    fn find(&mut self, wanted: impl Fn(u8) -> bool) -> io::Result<Option<u8>> {
        loop {
            match self.rest().iter().position(|&b| wanted(b)) {
                Some(i) => {
                    self.pos += i;
                    return Ok(Some(self.rest()[0]));
                }
                None => {
                    self.pos = self.base + self.buf.len();
                    if !self.more()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// The next byte that is not JSON whitespace (not consumed), or None at the end of input.
    fn skip_ws(&mut self) -> io::Result<Option<u8>> {
        self.find(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    }

    /// The next quote, bracket, brace or comma (not consumed).
    fn next_structural(&mut self) -> io::Result<Option<u8>> {
        self.find(|b| STRUCTURAL[usize::from(b)])
    }

    /// Past a string whose opening quote is at `pos`, through its closing quote.
    fn skip_string<E>(&mut self) -> Result<(), Split<E>> {
        self.pos += 1;
        loop {
            match memchr::memchr2(b'"', b'\\', self.rest()) {
                Some(i) if self.rest()[i] == b'"' => {
                    self.pos += i + 1;
                    return Ok(());
                }
                Some(i) => {
                    // An escape: the byte after the backslash is part of it.
                    self.pos += i;
                    if self.rest().len() < 2 && !self.more()? {
                        return Err(Split::Unsupported);
                    }
                    if self.rest().len() < 2 {
                        continue;
                    }
                    self.pos += 2;
                }
                None => {
                    self.pos = self.base + self.buf.len();
                    if !self.more()? {
                        return Err(Split::Unsupported);
                    }
                }
            }
        }
    }

    /// Past the object or array whose opening bracket was just read, through its closing one.
    fn skip_container<E>(&mut self) -> Result<(), Split<E>> {
        let mut scan = Scan::default();
        loop {
            if let Some(end) = scan.end_in(self.rest()) {
                self.pos += end;
                return Ok(());
            }
            self.pos = self.base + self.buf.len();
            if !self.more()? {
                return Err(Split::Unsupported);
            }
        }
    }

    /// Past one value starting at `pos` (an object, array, string or scalar).
    fn skip_value<E>(&mut self) -> Result<(), Split<E>> {
        match self.skip_ws()?.ok_or(Split::Unsupported)? {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                self.pos += 1;
                self.skip_container()
            }
            _ => {
                // A number or a literal: it ends where the next delimiter or blank begins.
                self.find(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t'))?;
                Ok(())
            }
        }
    }
}

/// Appends `json` to `out` without its indentation: the spaces and tabs after each line break.
/// `kubectl -o json` indents by four spaces a level, two thirds of a dump's bytes, which every
/// reading of an item would otherwise step over byte by byte. Only indentation goes, each line
/// break stays: outside a string it still parts the tokens around it, and inside one (a raw line
/// break is not JSON) it still fails the parse, so what did not read still does not.
///
/// 64 bytes at a time: their line breaks and blanks as bitmasks, the indentation the runs of
/// blanks that start after a break (found by one addition), and each run of kept bytes copied
/// as a whole block into `out`, the next run written over what followed it. Line by line
/// (a search for the break, one for the indentation's end, a copy of a dozen bytes), this was
/// a tenth of an offline run, on the thread that cuts.
pub(crate) fn compact_into(out: &mut Vec<u8>, json: &[u8]) {
    let mut written = out.len();
    // Whether the block before ended in a line break or in its indentation.
    let mut indenting = false;
    for (n, block) in json.chunks(BLOCK).enumerate() {
        let [breaks, blanks] = match <&[u8; BLOCK]>::try_from(block) {
            Ok(block) => blank_marks(block),
            Err(_) => {
                let mut padded = [0; BLOCK];
                padded[..block.len()].copy_from_slice(block);
                blank_marks(&padded)
            }
        };
        let starts = (breaks << 1 | u64::from(indenting)) & blanks;
        // Each start's carry runs through its run of blanks and stops past it.
        let (sum, carried_out) = blanks.overflowing_add(starts);
        let indentation = (sum ^ blanks) & blanks;
        indenting = carried_out || breaks >> (BLOCK - 1) == 1;
        let mut kept = !indentation & every_bit_below(block.len());
        let from = n * BLOCK;
        // Room for a block copied whole at each run, made (zeroed) a little at a time: the
        // kept bytes are a third of the item's.
        if out.len() < written + 2 * BLOCK {
            // (A copy of zeros: `resize` wrote them a byte at a time in the size-optimised
            // build, 2.7% of an offline run.)
            out.truncate(written);
            out.extend_from_slice(&[0; ROOM]);
        }
        while kept != 0 {
            let at = kept.trailing_zeros() as usize;
            let run = (!(kept >> at)).trailing_zeros() as usize;
            let source = &json[from + at..];
            match source.get(..BLOCK) {
                Some(whole) => out[written..written + BLOCK].copy_from_slice(whole),
                None => out[written..written + run].copy_from_slice(&source[..run]),
            }
            written += run;
            kept &= u64::MAX.checked_shl((at + run) as u32).unwrap_or(0);
        }
    }
    out.truncate(written);
}

/// How much room [`compact_into`] makes past what it has written when it runs short (more
/// than the two blocks it needs).
const ROOM: usize = 2048;

/// The low `len` bits (all 64 for a whole block).
fn every_bit_below(len: usize) -> u64 {
    u64::MAX.checked_shr((BLOCK - len) as u32).unwrap_or(0)
}

/// Bit i set where `block[i]` is a line break, and where it is a space or a tab.
#[inline(always)]
fn blank_marks(block: &[u8; BLOCK]) -> [u64; 2] {
    // (The two masks not asked for are zeros, which the joining then leaves out.)
    let [breaks, blanks, _, _] = lanes_joined(block, |lane| {
        let [breaks, blanks] = lane_blanks(lane);
        [breaks, blanks, 0, 0]
    });
    [breaks, blanks]
}

/// [`blank_marks`] for sixteen bytes.
#[inline(always)]
fn lane_blanks(lane: [u8; 16]) -> [u64; 2] {
    use wide::u8x16;
    let bytes = u8x16::from(lane);
    let mask = |found: u8x16| u64::from(found.to_bitmask());
    let blank = bytes.simd_eq(u8x16::splat(b' ')) | bytes.simd_eq(u8x16::splat(b'\t'));
    [mask(bytes.simd_eq(u8x16::splat(b'\n'))), mask(blank)]
}

/// Words of eight bytes, for `json_cursor`'s search for the end of a string's plain run.
const ONES: u64 = u64::from_le_bytes([1; 8]);
const LOW7: u64 = ONES * 0x7f;

/// A word with every byte `b`.
pub(super) const fn every(b: u8) -> u64 {
    ONES * b as u64
}

/// The high bit of exactly the zero bytes of `v` (no borrow crosses bytes: 0x7f + 0x7f < 0x100).
pub(super) const fn zero_bytes(v: u64) -> u64 {
    !(((v & LOW7).wrapping_add(LOW7)) | v | LOW7)
}

/// The index of the bracket that closes the array or object opening at `json[0]`, scanning as
/// the cutter does (trusting the text to be JSON); None if it does not close in `json`.
pub(crate) fn container_end(json: &[u8]) -> Option<usize> {
    let inside = json.get(1..)?;
    Scan::default().end_in(inside)
}

/// Where an object or array whose opening bracket has been read ends, found 64 bytes at a time
/// ([`Scan::end_in_block`]; a shorter rest padded to a block). Byte by byte, this search was
/// a third of an offline run's instructions. Like the rest of the cutter it trusts the input to
/// be JSON: what is not is caught when the piece is parsed.
#[derive(Default)]
struct Scan {
    /// Brackets open beyond the first (the one read before the scan).
    depth: usize,
    in_string: bool,
    /// The next byte is escaped (a backslash ended the bytes scanned so far).
    escaped: bool,
}

/// The bytes [`Scan`] looks at in one go.
const BLOCK: usize = 64;

/// Bit i set where `block[i]` is `"`, `\\`, `{` or `[`, `}` or `]` (in that order).
#[inline(always)]
fn marks_of(block: &[u8; BLOCK]) -> [u64; 4] {
    lanes_joined(block, lane_marks)
}

/// The masks `lane` finds in each sixteen bytes of a block, joined into masks of the block.
/// Written out lane by lane and mask by mask: the size-optimised release build keeps a loop
/// here a loop (a generic loop over the masks cost 7% of an offline run).
#[inline(always)]
fn lanes_joined(block: &[u8; BLOCK], lane: impl Fn([u8; 16]) -> [u64; 4]) -> [u64; 4] {
    let (lanes, _) = block.as_chunks::<16>();
    let (a, b) = (lane(lanes[0]), lane(lanes[1]));
    let (c, d) = (lane(lanes[2]), lane(lanes[3]));
    let joined = |m: usize| a[m] | b[m] << 16 | c[m] << 32 | d[m] << 48;
    [joined(0), joined(1), joined(2), joined(3)]
}

/// [`marks_of`] for sixteen bytes.
#[inline(always)]
fn lane_marks(lane: [u8; 16]) -> [u64; 4] {
    use wide::u8x16;
    let bytes = u8x16::from(lane);
    // Setting bit 0x20 turns `[` into `{` and `]` into `}`, and nothing else into either.
    let folded = bytes | u8x16::splat(0x20);
    let mask = |found: u8x16| u64::from(found.to_bitmask());
    [
        mask(bytes.simd_eq(u8x16::splat(b'"'))),
        mask(bytes.simd_eq(u8x16::splat(b'\\'))),
        mask(folded.simd_eq(u8x16::splat(b'{'))),
        mask(folded.simd_eq(u8x16::splat(b'}'))),
    ]
}

/// Bit i set where an odd number of the bits 0..=i of `bits` are: with quotes, the bytes from
/// an opening quote up to its closing one.
const fn prefix_parity(bits: u64) -> u64 {
    let bits = bits ^ bits << 1;
    let bits = bits ^ bits << 2;
    let bits = bits ^ bits << 4;
    let bits = bits ^ bits << 8;
    let bits = bits ^ bits << 16;
    bits ^ bits << 32
}

impl Scan {
    /// Scans on through `bytes`: the length up to and including the closing bracket, or None
    /// if it is not in them (the scan goes on with the bytes that follow).
    fn end_in(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut blocks = bytes.chunks_exact(BLOCK);
        for (n, block) in (&mut blocks).enumerate() {
            let block: &[u8; BLOCK] = block.try_into().unwrap_or(&[0; BLOCK]);
            if let Some(i) = self.end_in_block(block, BLOCK) {
                return Some(n * BLOCK + i + 1);
            }
        }
        let tail = blocks.remainder();
        if tail.is_empty() {
            // (An escape that ended the last block is still pending.)
            return None;
        }
        // A zero byte is never marked, so the padding is passed over.
        let mut padded = [0u8; BLOCK];
        padded[..tail.len()].copy_from_slice(tail);
        self.end_in_block(&padded, tail.len())
            .map(|i| bytes.len() - tail.len() + i + 1)
    }

    /// The index of the closing bracket in the first `len` bytes of `block` (the rest zeros),
    /// if it is there. Its quotes and brackets are found sixteen bytes at a time; which are in
    /// strings, by the parity of the quotes before each byte; the depth is followed bracket by
    /// bracket only where the block's closing brackets could bring it to the end. In a block
    /// with backslashes, the quotes they escape are found first.
    // (Inlined, with `marks_of`, at both calls: called apart, 1.5% more instructions.)
    #[inline(always)]
    fn end_in_block(&mut self, block: &[u8; BLOCK], len: usize) -> Option<usize> {
        let [mut quotes, backslashes, opens, closes] = marks_of(block);
        if backslashes != 0 || self.escaped {
            quotes = self.unescaped(quotes, backslashes, len);
        }
        let mut in_string = prefix_parity(quotes);
        if self.in_string {
            in_string = !in_string;
        }
        self.in_string = in_string >> (BLOCK - 1) == 1;
        let (opens, closes) = (opens & !in_string, closes & !in_string);
        let closed = closes.count_ones() as usize;
        if closed <= self.depth {
            self.depth = self.depth - closed + opens.count_ones() as usize;
            return None;
        }
        let mut brackets = opens | closes;
        while brackets != 0 {
            let i = brackets.trailing_zeros() as usize;
            brackets &= brackets - 1;
            if opens >> i & 1 == 1 {
                self.depth += 1;
            } else if self.depth == 0 {
                return Some(i);
            } else {
                self.depth -= 1;
            }
        }
        None
    }

    /// [`Scan::unescaped`] without a loop, for a block whose backslashes are all in strings
    /// (any JSON's are; None for one that is not, left to the loop): a run of backslashes
    /// escapes every other byte from its second, so the bytes escaped are found for the whole
    /// block with one addition (the run starts on an odd bit or an even one; a technique of
    /// simdjson's). A managedFields key like `"k:{\"name\":\"app\"}"` is eight turns of the loop.
    fn unescaped_by_runs(&mut self, quotes: u64, backslashes: u64, len: usize) -> Option<u64> {
        const EVEN: u64 = 0x5555_5555_5555_5555;
        let carried = u64::from(self.escaped);
        // A backslash escaped from the block before escapes nothing.
        let escaping = backslashes & !carried;
        let follows = escaping << 1 | carried;
        let odd_starts = escaping & !EVEN & !follows;
        let (even_starts, _) = odd_starts.overflowing_add(escaping);
        let escaped = (EVEN ^ even_starts << 1) & follows;
        let unescaped = quotes & !escaped;
        let mut in_string = prefix_parity(unescaped);
        if self.in_string {
            in_string = !in_string;
        }
        if backslashes & !in_string != 0 {
            return None;
        }
        // The last byte a backslash that is not escaped: it escapes the next block's first.
        self.escaped = (escaping & !escaped) >> (len - 1) & 1 == 1;
        Some(unescaped)
    }

    /// The quotes of a block with escapes that are not escaped themselves, found in order
    /// (a backslash escapes only in a string; the byte after one ending the `len` bytes is
    /// escaped in the next).
    fn unescaped(&mut self, quotes: u64, backslashes: u64, len: usize) -> u64 {
        if let Some(unescaped) = self.unescaped_by_runs(quotes, backslashes, len) {
            return unescaped;
        }
        let mut marked = quotes | backslashes;
        if std::mem::take(&mut self.escaped) {
            marked &= !1;
        }
        let mut in_string = self.in_string;
        let mut unescaped = 0;
        while marked != 0 {
            let i = marked.trailing_zeros();
            marked &= marked - 1;
            if quotes >> i & 1 == 1 {
                unescaped |= 1 << i;
                in_string = !in_string;
            } else if in_string {
                match i as usize + 1 < len {
                    true => marked &= !(1 << (i + 1)),
                    false => self.escaped = true,
                }
            }
        }
        unescaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    fn pieces(text: &str) -> Result<Vec<String>, ()> {
        let mut out = Vec::new();
        let done = split::<()>(text.as_bytes(), &mut |piece| {
            out.push(match piece {
                Piece::Head(b) => format!("head {}", String::from_utf8_lossy(b)),
                Piece::Item(b, place) => {
                    assert_eq!(&text.as_bytes()[place], b);
                    format!("item {}", String::from_utf8_lossy(b))
                }
                Piece::Document(b, place) => {
                    if let Some(place) = place {
                        assert_eq!(&text.as_bytes()[place], b);
                    }
                    format!("doc {}", String::from_utf8_lossy(b))
                }
            });
            Ok(())
        });
        match done {
            Ok(()) => Ok(out),
            Err(_) => Err(()),
        }
    }

    #[test]
    fn a_list_is_cut_into_its_items() {
        let text = r#" {"apiVersion": "v1", "items": [ {"a": "x,]}\"y"}, 7 , [1, {}] ],
            "kind": "List", "metadata": {"items": [1]}} {"kind":"Pod"}"#;
        assert_eq!(
            pieces(text).unwrap(),
            [
                r#"head {"apiVersion": "v1", "items": []}"#,
                r#"item {"a": "x,]}\"y"}"#,
                "item 7",
                "item [1, {}]",
                "doc {\"apiVersion\": \"v1\", \"items\": [],\n            \"kind\": \"List\", \"metadata\": {\"items\": [1]}}",
                r#"doc {"kind":"Pod"}"#,
            ]
        );
    }

    #[test]
    fn only_the_first_top_level_items_array_is_cut() {
        let text = r#"{"items": {"k": 1}, "x": {"items": [1]}, "items": []}"#;
        assert_eq!(pieces(text).unwrap(), [format!("doc {text}")]);
        let text = r#"{"items": [], "items": [2]}"#;
        assert_eq!(
            pieces(text).unwrap(),
            [
                r#"head {"items": []}"#,
                r#"doc {"items": [], "items": [2]}"#
            ]
        );
    }

    #[test]
    fn what_is_not_a_stream_of_objects_is_left_to_the_slow_path() {
        for text in [
            "[1, 2]",
            "7",
            r#"{"items": [1,]}"#,
            r#"{"items": [1"#,
            r#"{"a": "unterminated"#,
            "{\"a\": \"\u{0}\"",
        ] {
            assert!(pieces(text).is_err(), "{text:?}");
        }
        assert!(split::<()>(&b"{\"a\": \"\xff\"}"[..], &mut |_| Ok(())).is_err());
        assert_eq!(pieces("  \n").unwrap(), Vec::<String>::new());
    }

    /// The end of the container opened just before `text`, byte by byte.
    fn end_byte_by_byte(text: &[u8]) -> Option<usize> {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for (i, &b) in text.iter().enumerate() {
            match (in_string, b) {
                _ if escaped => escaped = false,
                (true, b'\\') => escaped = true,
                (true, b'"') | (false, b'"') => in_string = !in_string,
                (false, b'{' | b'[') => depth += 1,
                (false, b'}' | b']') if depth == 0 => return Some(i + 1),
                (false, b'}' | b']') => depth -= 1,
                _ => {}
            }
        }
        None
    }

    /// Where [`Scan`] ends the container, given `text` in two reads cut at `cut` (or its end).
    fn end_in_two_reads(text: &[u8], cut: usize) -> Option<usize> {
        let cut = cut.min(text.len());
        let mut scan = Scan::default();
        scan.end_in(&text[..cut])
            .or_else(|| scan.end_in(&text[cut..]).map(|end| cut + end))
    }

    #[test]
    fn the_scan_ends_containers_where_a_byte_scan_does_at_every_cut() {
        let cases: &[&[u8]] = &[
            br#""a": 1}, 2"#,
            br##""k": "x}]\"\\", "l": [1, {"m": "{["}], "#{}", "\\\\\""}]]"##,
            "\"caf\u{e9} \u{2014} \u{7b}\": [\"]\"]} tail".as_bytes(),
            br#"1, 2, [3, [4]], "]"], {}"#,
            br#""a\"#,
            br#"{"open": ["#,
        ];
        for text in cases {
            // Every cut into two reads, so escapes and brackets fall on both sides of a word
            // and of a chunk.
            for cut in 0..=text.len() {
                assert_eq!(
                    end_in_two_reads(text, cut),
                    end_byte_by_byte(text),
                    "{} cut at {cut}",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }

    proptest::proptest! {
        /// Texts long enough for whole blocks, of the bytes the scan looks at, any of them
        /// anywhere (so not always JSON), read in two parts cut anywhere.
        #[test]
        fn the_block_scan_ends_containers_where_a_byte_scan_does(
            text in proptest::collection::vec(
                proptest::sample::select(b"\"\\{}[]a \n".to_vec()),
                0..1000,
            ),
            cut in 0usize..400,
            escapes in proptest::bool::ANY,
        ) {
            // Without backslashes most blocks go the vectorised way.
            let text: Vec<u8> = text.into_iter().filter(|&b| escapes || b != b'\\').collect();
            proptest::prop_assert_eq!(end_in_two_reads(&text, cut), end_byte_by_byte(&text));
        }

        /// JSON-like texts whose strings hold runs of backslashes of every length (escaping a
        /// quote, each other, a letter), so blocks go the loop-free way, ends and cuts falling
        /// anywhere in a run.
        #[test]
        fn escapes_in_strings_end_containers_where_a_byte_scan_does(
            parts in proptest::collection::vec(proptest::prop_oneof![
                proptest::sample::select(vec!["{", "}", "[", "]", ",", ":", " ", "1"])
                    .prop_map(String::from),
                proptest::collection::vec(proptest::prop_oneof![
                    (1usize..9).prop_map(|n| "\\\\".repeat(n / 2) + if n % 2 == 1 { "\\\"" } else { "" }),
                    proptest::sample::select(vec!["a", "{", "]", "\\n"]).prop_map(String::from),
                ], 0..12).prop_map(|content| format!("\"{}\"", content.concat())),
            ], 0..120),
            cut in 0usize..700,
        ) {
            let text = parts.concat().into_bytes();
            proptest::prop_assert_eq!(end_in_two_reads(&text, cut), end_byte_by_byte(&text));
        }
    }

    fn compact(text: &[u8]) -> Vec<u8> {
        let mut out = b"kept:".to_vec();
        compact_into(&mut out, text);
        out.split_off(5)
    }

    #[test]
    fn compacting_drops_indentation_and_nothing_else() {
        let text = "{\n    \"a b\": [\n        1,\n\t\"x\\\" \\\\\",\r\n  \n        {}\n    ],\n    \"caf\u{e9} \u{2014}\": true , \"n\" :-1.5e3 }\n  ";
        let got = compact(text.as_bytes());
        assert_eq!(
            String::from_utf8(got.clone()).unwrap(),
            "{\n\"a b\": [\n1,\n\"x\\\" \\\\\",\r\n\n{}\n],\n\"caf\u{e9} \u{2014}\": true , \"n\" :-1.5e3 }\n"
        );
        let value = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).unwrap();
        assert_eq!(value(&got), value(text.as_bytes()));
    }

    #[test]
    fn compacting_drops_what_a_byte_by_byte_reading_drops() {
        let text = "{\n    \"k\": [\n\t\t1,\n        \"a\\nb c\",\n\n   \n  {\"x\": null}\n    ]\n}\n        ";
        // Every start: a text that begins within indentation, or on a break.
        for start in 0..text.len() {
            let text = &text.as_bytes()[start..];
            assert_eq!(
                compact(text),
                compact_by_bytes(text),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    /// What `compact_into` must do, a byte at a time.
    fn compact_by_bytes(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut indenting = false;
        for &b in text {
            indenting = match b {
                b' ' | b'\t' if indenting => continue,
                b'\n' => true,
                _ => false,
            };
            out.push(b);
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn compacting_drops_what_a_byte_by_byte_reading_drops_across_blocks(
            parts in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(" ".repeat(31)), proptest::strategy::Just(" ".repeat(64)), proptest::strategy::Just("\t".to_string()),
                proptest::strategy::Just("\n".to_string()), proptest::strategy::Just("\n    ".to_string()), proptest::strategy::Just(" ".to_string()),
                "[a-z\"{}:,]{0,20}",
            ], 0..60),
            kept in "[a-z]{0,70}",
        ) {
            let text = parts.concat();
            let mut out = kept.clone().into_bytes();
            compact_into(&mut out, text.as_bytes());
            let mut expected = kept.into_bytes();
            expected.extend(compact_by_bytes(text.as_bytes()));
            proptest::prop_assert_eq!(out, expected);
        }
    }

    #[test]
    fn compacting_never_makes_what_does_not_parse_parse() {
        for text in [
            "[1\n    2]",
            "{\"a\": tr\n    ue}",
            "[true\n\t\tfalse]",
            "{\"a\":\n    \"line one\n    line two\"}",
            "{\"a\": 1\n    \"b\": 2}",
        ] {
            let got = compact(text.as_bytes());
            assert!(
                serde_json::from_slice::<serde_json::Value>(&got).is_err(),
                "{text:?} became {:?}",
                String::from_utf8_lossy(&got)
            );
        }
        assert_eq!(compact(b"\n        "), b"\n");
        assert_eq!(compact(b""), b"");
    }

    #[test]
    fn pieces_span_chunk_boundaries() {
        let item = format!(r#"{{"pad": "{}", "q": "\\\""}}"#, "x".repeat(CHUNK / 3));
        let text = format!(r#"{{"items": [{item}, {item}, {item}, {item}]}}"#);
        let got = pieces(&text).unwrap();
        assert_eq!(got.len(), 6);
        assert!(got[1..5].iter().all(|p| *p == format!("item {item}")));
    }
}
