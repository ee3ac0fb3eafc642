/// The text of a `merges.txt`: one merge per line, `left right`, in rank order; `#version` lines are
/// skipped and a final newline ends the last line (tokenizers' `convert_merges_to_hashmap`).
///
/// Parsed over UTF-8 bytes: splitting half a megabyte by `Character` (grapheme breaking) took 50 ms of
/// the embedded vocabulary's first load, this takes a few.
struct MergesText {
    var pairs: [(String, String)] = []
    /// 1-based line of each merge in the text.
    var lines: [Int] = []

    /// A line that is not a merge: its number and text.
    struct BadLine: Error { let line: Int; let text: String }

    init(_ text: String) throws(BadLine) {
        let bytes = Array(text.utf8)
        var start = 0, number = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            number += 1
            var stop = end
            if stop > start, bytes[stop - 1] == 0x0D { stop -= 1 }  // CRLF
            try add(bytes[start..<stop], line: number)
            start = end + 1
        }
    }

    private mutating func add(_ line: ArraySlice<UInt8>, line number: Int) throws(BadLine) {
        if line.starts(with: "#version".utf8) { return }
        var space: Int?
        for i in line.indices where line[i] == 0x20 {
            guard space == nil else { throw BadLine(line: number, text: String(decoding: line, as: UTF8.self)) }
            space = i
        }
        guard let space, space > line.startIndex, space < line.endIndex - 1 else {
            throw BadLine(line: number, text: String(decoding: line, as: UTF8.self))
        }
        pairs.append((String(decoding: line[..<space], as: UTF8.self), String(decoding: line[(space + 1)...], as: UTF8.self)))
        lines.append(number)
    }
}
