import LDMModels
import LDMPipelines
import Testing
@testable import LDMEditing

/// The memory plan → tiling settings: the requested tiles when they fit, smaller ones under a
/// tighter ceiling, a payload-carrying error when nothing fits.
@Suite struct TilePlannerTests {
    static func planner() throws -> MemoryPlanner {
        let weights = try ModelWeights.open(Fixture.sr)
        return try MemoryPlanner(model: try LatentDiffusionModel(weights: weights), weightBytes: weights.parameterCount * 4)
    }

    @Test func latentSidesArePaddedToTheMultipleThenScaled() {
        #expect(TilePlanner.latentSide(13, multiple: 2) == 14)
        #expect(TilePlanner.latentSide(14, multiple: 2) == 14)
        #expect(TilePlanner.latentSide(1100, multiple: 32, factor: 4) == 280)
        #expect(TilePlanner.latentSide(700, multiple: 8, factor: 4) == 176)
    }

    @Test func picksTheRequestedTilesWhenTheyFitAndSmallerOnesOtherwise() throws {
        let planner = try Self.planner()
        let roomy = TilePlanner(planner: planner, request: try TilingRequest(maxMemory: 1 << 40), availableMemory: nil)
        let plan = try roomy.upscale(width: 640, height: 480, sizeMultiple: 2)
        #expect(plan.tiling == .standard && !plan.isReduced && plan.estimate.total <= roomy.budget)

        // A ceiling between the smallest plan's estimate and the standard one's.
        let smallest = planner.estimate(latentHeight: 480, latentWidth: 640,
                                        tiling: TilingSettings(unetTile: 64, unetOverlap: 21, vqTile: 32, vqOverlap: 8), encodes: false)
        let budget = (plan.estimate.total + smallest.total) / 2
        let tight = TilePlanner(planner: planner, request: try TilingRequest(maxMemory: budget), availableMemory: nil)
        let reduced = try tight.upscale(width: 640, height: 480, sizeMultiple: 2)
        #expect(reduced.isReduced && reduced.estimate.total <= budget)
        #expect(reduced.tiling.unetTile < 192 || reduced.tiling.vqTile < 128)

        let impossible = TilePlanner(planner: planner, request: try TilingRequest(maxMemory: 1 << 20), availableMemory: nil)
        #expect {
            try impossible.upscale(width: 640, height: 480, sizeMultiple: 2)
        } throws: { error in
            guard case PipelineError.memory(let needed, let budget, let estimate) = error else { return false }
            return budget == 1 << 20 && needed > budget && estimate.total == needed
        }
    }

    @Test func theDefaultCeilingIsThreeQuartersOfTheAvailableMemory() throws {
        #expect(TilingRequest.standard.budget(availableMemory: 4 << 30) == 3 << 30)
        #expect(TilingRequest.standard.budget(availableMemory: nil) == 6 << 30)
        #expect(try TilingRequest(maxMemory: 800 << 20).budget(availableMemory: 4 << 30) == 800 << 20)
    }

    /// A crop window of a large image keeps the whole image in memory besides the window's run.
    @Test func inpaintingWindowsCountTheWholeImage() throws {
        let planner = try Self.planner()
        let tiles = TilePlanner(planner: planner, request: .standard, availableMemory: 1 << 40)
        let window = try tiles.inpaint(width: 200, height: 100, sizeMultiple: 4, factor: 2, wholePixels: 1000 * 800)
        let whole = try tiles.inpaint(width: 200, height: 100, sizeMultiple: 4, factor: 2, wholePixels: 200 * 100)
        #expect(window.estimate.other == TilePlanner.wholeImageBytesPerPixel * 1000 * 800 && whole.estimate.other == 0)
        #expect(window.estimate.encoder > 0, "inpainting encodes the masked image")
        // Blended candidates hold the previews' sum, their mean, the blend's difference and output: 3 floats each per pixel.
        let blended = Candidates(count: 8, blendsMean: true)
        #expect(blended.heldBytesPerPixel == 36 && Candidates(count: 8).heldBytesPerPixel == 0)
        let withCandidates = try tiles.inpaint(width: 200, height: 100, sizeMultiple: 4, factor: 2, wholePixels: 1000 * 800,
                                               runBytesPerPixel: blended.heldBytesPerPixel)
        #expect(withCandidates.estimate.other == window.estimate.other + 36 * 200 * 100)
        #expect(withCandidates.estimate.total == window.estimate.total + 36 * 200 * 100)
    }
}
