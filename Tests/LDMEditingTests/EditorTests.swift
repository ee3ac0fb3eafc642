import Foundation
import LDMImageIO
import LDMModels
import LDMParallel
import LDMPipelines
import Testing
@testable import LDMEditing

/// The per-image edit on the tiny fixture models, as a server would run it: a request value, a
/// progress callback, a cancellation token.
@Suite struct EditorTests {
    static func sampling(_ seed: UInt64?) throws -> SamplingRequest { try SamplingRequest(steps: 3, seed: seed) }

    @Test func upscaleReportsEveryStepAndIsSeeded() throws {
        let editor = try Editor(task: .upscale, modelPath: Fixture.sr)
        let model = try #require(editor.model)
        #expect(model.path == Fixture.sr && model.sha256.count == 64 && model.useEMA)
        let request = EditRequest.upscale(model: model, sampling: try Self.sampling(7))
        let image = try Fixture.image(width: 13, height: 9, channels: 4)
        let steps = Recorder<[Int]>()
        let result = try editor.run(request, image: image, callbacks: EditCallbacks(progress: { steps.append([$0, $1]) }))
        #expect(steps.all == [[1, 3], [2, 3], [3, 3]])
        // The VQ-f2 fixture doubles; the layout (RGBA, 8-bit) is kept.
        #expect(result.image.width == 26 && result.image.height == 18 && result.image.channels == 4 && result.image.bitDepth == 8)
        #expect(result.plan == "unet 192/64, vq 128/32" && (result.estimatedPeakBytes ?? 0) > 0 && result.warnings.isEmpty)
        #expect(try editor.run(request, image: image).image == result.image, "same seed, same pixels")
    }

    /// Each edit is its own computation on a share of the editor's core budget: the threads the
    /// sampling loop sees are what the budget granted, and the pixels do not depend on it.
    @Test func editsRunOnTheirShareOfTheCoreBudget() throws {
        var editor = try Editor(task: .upscale, modelPath: Fixture.sr)
        let request = EditRequest.upscale(model: try #require(editor.model), sampling: try Self.sampling(7))
        let image = try Fixture.image(width: 13, height: 9)
        var results: [RasterImage] = []
        for (cores, asked, expected) in [(1, 2, 1), (2, 2, 2), (2, 1, 1)] {
            editor.cores = CoreBudget(cores: cores)
            editor.threads = asked
            let seen = Recorder<Int>()
            results.append(try editor.run(request, image: image, callbacks: EditCallbacks(progress: { _, _ in seen.append(Parallel.threads) })).image)
            #expect(seen.all == [expected, expected, expected], "budget \(cores), asked \(asked)")
        }
        #expect(results.allSatisfy { $0 == results[0] })
    }

    @Test func classicalUpscaleNeedsNoModel() throws {
        let editor = try Editor(task: .upscale, modelPath: nil)
        #expect(editor.model == nil)
        let result = try editor.run(.upscale(method: .bicubic), image: try Fixture.image(width: 5, height: 3))
        #expect(result.image.width == 20 && result.image.height == 12 && result.plan == nil)
    }

    @Test func inpaintKeepsUnmaskedPixelsAndReportsMaskWarnings() throws {
        let editor = try Editor(task: .inpaint, modelPath: Fixture.inpaint)
        let request = EditRequest.inpaint(model: try #require(editor.model), sampling: try Self.sampling(1))
        let image = try Fixture.image(width: 16, height: 12)
        let mask = try Fixture.mask(width: 16, height: 12) { x, y in (2..<7).contains(x) && (3..<9).contains(y) }
        let result = try editor.run(request, image: image, mask: mask)
        #expect(result.plan == "full")
        var changed = 0
        for y in 0..<12 {
            for x in 0..<16 {
                for c in 0..<3 where result.image.sample(x: x, y: y, channel: c) != image.sample(x: x, y: y, channel: c) {
                    #expect(mask.sample(x: x, y: y, channel: 0) == 255, "unmasked pixel (\(x), \(y)) changed")
                    changed += 1
                }
            }
        }
        #expect(changed > 0)
        let warnings = Recorder<EditWarning>()
        let empty = try Fixture.mask(width: 16, height: 12) { _, _ in false }
        let unchanged = try editor.run(request, image: image, mask: empty, callbacks: EditCallbacks(warning: warnings.append))
        #expect(warnings.all == [.mask(.empty)] && unchanged.warnings == [.mask(.empty)] && unchanged.image == image)
    }

    @Test func aCancelledEditStopsBetweenStepsAndProducesNothing() throws {
        let editor = try Editor(task: .upscale, modelPath: Fixture.sr)
        let request = EditRequest.upscale(model: try #require(editor.model), sampling: try SamplingRequest(steps: 10, seed: 1))
        let image = try Fixture.image(width: 8, height: 8)
        let token = CancellationToken()
        let steps = Recorder<Int>()
        #expect(throws: EditError.cancelled) {
            try editor.run(request, image: image, callbacks: EditCallbacks(progress: { step, _ in
                steps.append(step)
                if step == 2 { token.cancel() }  // as a server's handler would, from another thread
            }, cancellation: token))
        }
        #expect(steps.all == [1, 2])
        #expect(throws: EditError.cancelled) { try editor.run(request, image: image, callbacks: EditCallbacks(cancellation: token)) }
        #expect(throws: EditError.cancelled) {
            try editor.run(request, image: image, callbacks: EditCallbacks(cancellation: CancellationToken { true }))
        }
    }

    @Test func errorsCarryTheirFacts() throws {
        let editor = try Editor(task: .inpaint, modelPath: Fixture.inpaint, useEMA: false)
        let model = try #require(editor.model)
        #expect(!model.useEMA)
        let request = EditRequest.inpaint(model: model, sampling: try Self.sampling(1))
        let image = try Fixture.image(width: 16, height: 12)
        #expect(throws: EditError.maskRequired) { try editor.run(request, image: image) }
        let small = try Fixture.mask(width: 8, height: 6) { x, _ in x < 2 }
        #expect(throws: MaskError.sizeMismatch(maskWidth: 8, maskHeight: 6, imageWidth: 16, imageHeight: 12)) {
            try editor.run(request, image: image, mask: small)
        }
        var other = request
        other.model?.useEMA = true
        #expect(throws: EditError.self) { try editor.run(other, image: image, mask: small) }
        var withoutModel = request
        withoutModel.model = nil
        #expect(throws: RequestError.inconsistent(task: .inpaint, reason: "needs a model")) { try editor.run(withoutModel, image: image, mask: small) }
        let upscaler = try Editor(task: .upscale, modelPath: nil)
        var limited = upscaler
        limited.maxPixels = 100
        #expect(throws: EditError.resultTooLarge(width: 20, height: 12, limit: 100)) {
            try limited.run(.upscale(method: .lanczos), image: try Fixture.image(width: 5, height: 3))
        }
        #expect(throws: CheckpointError.wrongTask(path: Fixture.sr, found: .superResolution, expected: .inpainting)) {
            try Editor(task: .inpaint, modelPath: Fixture.sr)
        }
    }
}
