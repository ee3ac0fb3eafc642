import Foundation
import LDMModels
import Testing
@testable import LDMPipelines

/// Fixture: Tests/LDMPipelinesTests/Fixtures/randn.safetensors (Scripts/fixtures/make_rng_fixtures.py,
/// torch 2.15.0 on an AVX2 AMD CPU). Bitwise equality is required.
@Suite struct TorchGeneratorTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/randn.safetensors").path

    @Test func randnMatchesTorchBitForBit() throws {
        let file = try SafetensorsFile(path: Self.fixture)
        #expect(file.names.count == 11)
        for name in file.names {
            let parts = name.split(separator: "/")
            let seed = UInt64(parts[0])!
            var generator = TorchGenerator(seed: seed)
            let values = parts[1].split(separator: ",").flatMap { generator.normal(Int($0)!) }
            let expected = try file.load(name).values
            let differing = zip(values, expected).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(values.count == expected.count && differing == 0, "\(name): \(differing) of \(expected.count) differ")
        }
    }

    /// MT19937 reference: the 10000th output for the default seed 5489 is 4123659995.
    @Test func mersenneTwisterReferenceValue() {
        var g = TorchGenerator(seed: 5489)
        var last: UInt32 = 0
        for _ in 0..<10000 { last = g.random() }
        #expect(last == 4_123_659_995)
    }
}
