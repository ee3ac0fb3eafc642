import Synchronization

/// Byte-level BPE over token ids: a word's UTF-8 bytes become the alphabet's symbols (the last one
/// with `</w>`), then the lowest-ranked adjacent pair is merged, leftmost first, until no pair has a
/// merge. This is tokenizers' `Word::merge_all` (a queue ordered by rank, then position), which gives
/// the same ids as the greedy loop of `tokenization_clip.py`'s `bpe` for a vocabulary whose merges
/// only use symbols made by earlier merges (CLIP's); O(n log n) in the word's length, so a hostile
/// prompt of one enormous word costs seconds, not hours.
final class BytePairEncoding: Sendable {
    /// A merge: the pair's rank (its line order in merges.txt) and the id of the merged symbol.
    struct Merge: Sendable { let rank: Int32; let result: Int32 }

    /// Id of each byte's symbol, and of the same symbol with `</w>` (a word's last byte); -1 where
    /// the vocabulary lacks it (`encode` returns -1 there: the caller puts its unknown token in,
    /// one per byte, as tokenizers' BPE does with `fuse_unk=False`).
    let byteIDs: [Int32]
    let finalByteIDs: [Int32]
    let merges: [UInt64: Merge]
    /// Finished words (tokenizers keeps such a cache too); cleared when it reaches `cacheCapacity`.
    /// Keyed by UTF-8 bytes, not `String`: Swift's `String` equality is canonical equivalence, so
    /// "\u{113C5}" and "\u{113C2}\u{113C2}" would share an entry while their bytes (and ids) differ.
    private let cache = Mutex<[[UInt8]: [Int32]]>([:])
    private static let cacheCapacity = 10_000
    /// Longer words are not cached, so a long prompt cannot fill memory through the cache.
    private static let longestCachedWord = 256

    init(byteIDs: [Int32], finalByteIDs: [Int32], merges: [UInt64: Merge]) {
        self.byteIDs = byteIDs
        self.finalByteIDs = finalByteIDs
        self.merges = merges
    }

    /// Builds the merge table from a token table and the merges in rank order; `lines[k]` is merge
    /// k's line in `file`, for the error when a part or the result has no id.
    convenience init(tokens: [String: Int32], merges: [(String, String)], lines: [Int], file: String) throws {
        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            var ids: [Int32] = []
            for token in [left, right, left + right] {
                guard let id = tokens[token] else { throw TokenizerError.missingToken(path: file, token: token, line: lines[rank]) }
                ids.append(id)
            }
            // A repeated pair keeps its first rank (tokenizers builds its map the same way).
            let key = Self.key(ids[0], ids[1])
            if table[key] == nil { table[key] = Merge(rank: Int32(rank), result: ids[2]) }
        }
        let symbols = ByteLevelAlphabet.symbols.map { String(Character($0)) }
        self.init(byteIDs: symbols.map { tokens[$0] ?? -1 }, finalByteIDs: symbols.map { tokens[$0 + "</w>"] ?? -1 }, merges: table)
    }

    static func key(_ left: Int32, _ right: Int32) -> UInt64 { UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right)) }

    /// The ids of one pre-tokenized word; -1 for a byte the vocabulary lacks.
    func encode(_ word: Substring) -> [Int32] {
        let cacheable = word.utf8.count <= Self.longestCachedWord
        let key = Array(word.utf8)
        if cacheable, let hit = cache.withLock({ $0[key] }) { return hit }
        let ids = merge(word)
        if cacheable {
            cache.withLock { cache in
                if cache.count >= Self.cacheCapacity { cache.removeAll(keepingCapacity: true) }
                cache[key] = ids
            }
        }
        return ids
    }

    private func merge(_ word: Substring) -> [Int32] {
        let bytes = Array(word.utf8)
        let n = bytes.count
        guard n > 0 else { return [] }
        var symbol = [Int32](repeating: 0, count: n)
        for (i, b) in bytes.enumerated() { symbol[i] = i == n - 1 ? finalByteIDs[Int(b)] : byteIDs[Int(b)] }
        // A doubly linked list over positions; a merged-away position gets alive = false.
        var next = (0..<n).map { $0 + 1 < n ? $0 + 1 : -1 }
        var prev = (0..<n).map { $0 - 1 }
        var alive = [Bool](repeating: true, count: n)
        var queue = MergeQueue()
        func push(_ pos: Int) {
            let right = next[pos]
            guard right >= 0, let m = merges[Self.key(symbol[pos], symbol[right])] else { return }
            queue.push(.init(rank: m.rank, pos: Int32(pos), result: m.result))
        }
        for i in 0..<max(n - 1, 0) { push(i) }
        while let top = queue.pop() {
            let pos = Int(top.pos)
            guard alive[pos], next[pos] >= 0 else { continue }
            let right = next[pos]
            // An entry is stale when either symbol has changed since it was queued.
            guard let m = merges[Self.key(symbol[pos], symbol[right])], m.result == top.result else { continue }
            symbol[pos] = m.result
            alive[right] = false
            next[pos] = next[right]
            if next[right] >= 0 { prev[next[right]] = pos }
            if prev[pos] >= 0 { push(prev[pos]) }
            push(pos)
        }
        var ids: [Int32] = []
        var i = 0
        while i >= 0 && i < n {
            ids.append(symbol[i])
            i = next[i]
        }
        return ids
    }
}

/// A binary min-heap of merge candidates ordered by (rank, position), as tokenizers' `Merge` orders.
struct MergeQueue {
    struct Entry { let rank: Int32; let pos: Int32; let result: Int32 }
    private var heap: [Entry] = []

    private static func less(_ a: Entry, _ b: Entry) -> Bool { a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos }

    mutating func push(_ e: Entry) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, Self.less(heap[l], heap[m]) { m = l }
                if r < heap.count, Self.less(heap[r], heap[m]) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
