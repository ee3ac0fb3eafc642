import Foundation
import Testing
@testable import LDMText

/// Opt-in: every Unicode scalar (1,112,064, surrogates excepted) in the prompt "x{c}y {c}{c}" against the
/// reference's ids, which checks our Unicode tables (White_Space, letters, numbers, lower case, NFC)
/// against the reference's. `make_tokenizer_fixtures.py --exhaustive FILE`, then
/// `LDM_EDIT_TOKENIZER_EXHAUSTIVE=FILE bash Scripts/test.sh --filter ExhaustiveScalarTests`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LDM_EDIT_TOKENIZER_EXHAUSTIVE"] != nil))
struct ExhaustiveScalarTests {
    @Test func everyScalarMatchesTheReference() throws {
        let path = ProcessInfo.processInfo.environment["LDM_EDIT_TOKENIZER_EXHAUSTIVE"] ?? ""
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let tokenizer = CLIPTokenizer(vocabulary: try .embedded())
        var checked = 0
        var bad: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count == 2, let cp = UInt32(fields[0], radix: 16), let scalar = Unicode.Scalar(cp) else {
                Issue.record("bad line \(line)")
                continue
            }
            let expected = fields[1].split(separator: ",").compactMap { Int32($0) }
            let c = String(Character(scalar))
            let got = [49406] + tokenizer.encode("x\(c)y \(c)\(c)") + [49407]
            if got != expected { bad.append("U+\(String(cp, radix: 16, uppercase: true)) \(scalar.properties.generalCategory) age \(scalar.properties.age.map { "\($0.major).\($0.minor)" } ?? "-"): got \(got), expected \(expected)") }
            checked += 1
        }
        #expect(checked == 1_112_064)
        #expect(bad.isEmpty, "\(bad.count) scalars differ:\n\(bad.prefix(40).joined(separator: "\n"))")
    }
}
