import Foundation
import LDMEditing
import LDMImageIO
import Testing
@testable import LDMServer

/// Jobs end to end on a tiny fixture model: progress events, results with provenance, cancellation,
/// FIFO order, a closed page, and requests that must be refused.
@Suite(.serialized) struct JobTests {
    static let model = "conv_inp_folder"

    /// An uploaded photo and mask (ids).
    func images(_ server: TestServer, width: Int = 64, height: Int = 48) async throws -> (image: String, mask: String) {
        let image = try await server.upload(try Pictures.photo(width: width, height: height))
        let mask = try await server.upload(try Pictures.mask(width: width, height: height), name: "mask.png")
        return (try #require(image["id"] as? String), try #require(mask["id"] as? String))
    }

    func submit(_ server: TestServer, _ images: (image: String, mask: String), steps: Int, seed: Int? = 5,
                session: String? = nil) async throws -> String {
        // One seed: the fixture's own default previews 8 (`Candidates.modelDefault`), whose steps the events count too.
        var job: [String: Any] = ["task": "inpaint", "model": try server.model(Self.model), "image": images.image, "mask": images.mask,
                                  "steps": steps, "candidates": 1]
        job["seed"] = seed
        job["session"] = session
        let reply = try await server.json("POST", "/api/jobs", job)
        guard reply.status == 202, let id = reply.json["id"] as? String else { throw HTTPClientError(description: "submit: \(reply.status) \(reply.text)") }
        return id
    }

    @Test func anInpaintJobReportsItsStepsAndKeepsUnmaskedPixels() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let ids = try await images(server)
        let job = try await submit(server, ids, steps: 6, seed: 11)
        // The job's own stream: queued/running, each step, then done; it ends by itself.
        let request = HTTPConnection.requestBytes("GET", "/api/jobs/\(job)/events", headers: server.standardHeaders(), body: nil)
        let (head, read) = try await blocking { () -> ((status: Int, headers: [String: String]), Unchecked<[[String: Any]]>) in
            let connection = try HTTPConnection(port: server.port)
            connection.send(request)
            let head = try connection.readHead()
            let reader = EventReader(connection)
            var events: [[String: Any]] = []
            while let event = try reader.next() { events.append(event) }
            return (head, Unchecked(value: events))
        }
        let events = read.value
        #expect(head.status == 200 && head.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        let states = events.compactMap { $0["state"] as? String }
        #expect(states.last == "done")
        // Streams send a job's latest state at each look (every 150 ms), so a fast model's steps arrive coalesced:
        // increasing, out of 6, ending with done at 6/6.
        let steps = events.filter { $0["state"] as? String == "running" }.compactMap { $0["step"] as? Int }
        #expect(steps == steps.sorted())
        #expect(Set(events.compactMap { $0["steps"] as? Int }.filter { $0 > 0 }) == [6])
        #expect(events.last?["step"] as? Int == 6 && events.last?["steps"] as? Int == 6)

        let done = try #require(events.last)
        // No sampler named: the model's own (an LDM inpainting model: DPM-Solver++(2M) Karras).
        #expect(done["seed"] as? Int == 11 && done["seed_given"] as? Bool == true && done["sampler"] as? String == "dpmpp-2m-karras")
        let result = try #require(done["result"] as? [String: Any])
        #expect(result["name"] as? String == "photo_inpainted.png")
        let file = try await server.request("GET", "/api/images/\(try #require(result["id"] as? String))/file")
        #expect(file.headers["content-disposition"]?.contains("photo_inpainted.png") == true)
        let output = try decode(file.body)
        let (source, mask) = (try Pictures.photo(), try Pictures.mask())
        var changed = 0
        for y in 0..<48 {
            for x in 0..<64 {
                let inside = mask.sample(x: x, y: y, channel: 0) > 0
                for c in 0..<3 where output.sample(x: x, y: y, channel: c) != source.sample(x: x, y: y, channel: c) {
                    #expect(inside, "pixel (\(x), \(y)) outside the mask changed")
                    changed += 1
                }
            }
        }
        #expect(changed > 100)
        let provenance = try #require(Provenance.parse(output.metadata.text))
        #expect(provenance.settings.sampling?.seed == 11 && provenance.settings.sampling?.steps == 6)
        #expect(provenance.input == "photo.png" && provenance.mask == "mask.png" && provenance.settings.model?.name == Self.model)
        #expect(provenance.inputSHA256 == (try await server.request("GET", "/api/images/\(ids.image)").json["sha256"] as? String))
        #expect(provenance.version == "test")
    }

    @Test func queuedJobsRunInOrderAndCanBeCancelled() async throws {
        let server = try await TestServer.start { $0.maxQueuedJobs = 2 }
        defer { Task { await server.stop() } }
        let ids = try await images(server, width: 384, height: 384)
        let long = try await submit(server, ids, steps: 1000)
        let running = try await server.wait(for: long) { ($0["step"] as? Int ?? 0) > 1 }
        // DDIM over 1000 timesteps with 1000 steps asked takes 999 (the pipeline's count is what is reported).
        #expect(running["steps_requested"] as? Int == 1000 && (running["steps"] as? Int ?? 0) > 900)
        #expect((running["seconds_left"] as? Double ?? 0) > 0, "\(running)")
        let second = try await submit(server, ids, steps: 2), third = try await submit(server, ids, steps: 2)
        #expect(try await server.request("GET", "/api/jobs/\(second)").json["ahead"] as? Int == 1)
        #expect(try await server.request("GET", "/api/jobs/\(third)").json["ahead"] as? Int == 2)
        let queue = try await server.request("GET", "/api/queue").json
        #expect(queue["running"] as? String == long && queue["waiting"] as? [String] == [second, third])
        // Full: two already wait.
        let refused = try await server.json("POST", "/api/jobs", ["task": "inpaint", "model": try server.model(Self.model), "image": ids.image,
                                                            "mask": ids.mask])
        #expect(refused.status == 503 && refused.json["code"] as? String == "busy")
        // The server answers while the edit computes.
        // The server answers while the edit computes: the reply comes while the long job is still running (a
        // server blocked by the edit would answer only after it). The bound is loose because the suites running
        // beside this one can keep the server's handlers waiting for a thread.
        let (models, seconds) = try await server.timedGet("/api/models")
        #expect(models.status == 200 && seconds < 20, "\(seconds) s")
        #expect(try await server.request("GET", "/api/jobs/\(long)").json["state"] as? String == "running")

        let cancelled = try await server.request("DELETE", "/api/jobs/\(long)")
        #expect(cancelled.status == 200)
        #expect(try await server.wait(for: long)["state"] as? String == "cancelled")
        let (b, c) = (try await server.wait(for: second), try await server.wait(for: third))
        #expect(b["state"] as? String == "done" && c["state"] as? String == "done")
        #expect(b["run_index"] as? Int == 2 && c["run_index"] as? Int == 3)
        #expect(try await server.request("DELETE", "/api/jobs/unknown").status == 404)
    }

    @Test func aWaitingJobIsCancelledBeforeItRuns() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let ids = try await images(server, width: 384, height: 384)
        let long = try await submit(server, ids, steps: 1000)
        let waiting = try await submit(server, ids, steps: 2)
        let reply = try await server.request("DELETE", "/api/jobs/\(waiting)")
        #expect(reply.json["state"] as? String == "cancelled" && reply.json["run_index"] == nil)
        _ = try await server.request("DELETE", "/api/jobs/\(long)")
        #expect(try await server.wait(for: long)["state"] as? String == "cancelled")
        #expect(try await server.request("GET", "/api/jobs/\(waiting)").json["run_index"] == nil)
    }

    @Test func closingThePageCancelsItsJobs() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let session = try #require(try await server.request("POST", "/api/sessions").json["session"] as? String)
        let stream = try HTTPConnection(port: server.port)
        stream.send(HTTPConnection.requestBytes("GET", "/api/events?session=\(session)", headers: server.standardHeaders(), body: nil))
        #expect(try await blocking { try stream.readHead().status } == 200)
        let ids = try await images(server, width: 384, height: 384)
        let running = try await submit(server, ids, steps: 1000, session: session)
        let waiting = try await submit(server, ids, steps: 1000, session: session)
        let other = try await submit(server, ids, steps: 1)  // no session: an API client's, untouched
        let events = EventReader(stream)
        let seen = try await blocking { () -> Set<String> in
            var seen = Set<String>()
            while seen.count < 2, let event = try events.next() { if let id = event["id"] as? String { seen.insert(id) } }
            return seen
        }
        #expect(seen == [running, waiting])
        _ = try await server.wait(for: running) { ($0["step"] as? Int ?? 0) > 0 }
        stream.close()
        #expect(try await server.wait(for: running, timeout: 30)["state"] as? String == "cancelled")
        #expect(try await server.wait(for: waiting, timeout: 30)["state"] as? String == "cancelled")
        #expect(try await server.wait(for: other)["state"] as? String == "done")
    }

    @Test func malformedJobsGetClearErrorsAndTheServerLivesOn() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let ids = try await images(server)
        let model = try server.model(Self.model)
        let good: [String: Any] = ["task": "inpaint", "model": model, "image": ids.image, "mask": ids.mask, "steps": 2]
        func refused(_ change: [String: Any?], status: Int = 400, code: String = "bad_request", _ message: String) async throws {
            var job = good
            for (key, value) in change { job[key] = value }
            let reply = try await server.json("POST", "/api/jobs", job)
            #expect(reply.status == status, "\(change): \(reply.text)")
            #expect(reply.json["code"] as? String == code, "\(change)")
            #expect((reply.json["error"] as? String)?.contains(message) == true, "\(change): \(reply.text)")
        }
        let sr = try #require(server.server.catalog.entries.first { $0.task == .upscale && $0.description != nil }).id
        try await refused(["model": "../../../etc/passwd"], code: "unknown_model", "unknown model")
        try await refused(["model": TestServer.modelsFolder + "/" + Self.model], code: "unknown_model", "unknown model")
        try await refused(["model": Self.model], code: "unknown_model", "unknown model")
        try await refused(["model": sr], "is for upscale")
        try await refused(["task": "paint"], "task must be one of")
        try await refused(["steps": 0], "steps")
        try await refused(["steps": "ten"], "steps")
        try await refused(["seed": -1], "seed")
        try await refused(["sampler": "heun"], "sampler must be one of")
        try await refused(["prompt": "a cat"], "reads no text")
        try await refused(["mask": nil], "needs a mask")
        try await refused(["image": "/etc/passwd"], status: 404, code: "not_found", "image")
        try await refused(["colour": "red"], "unknown field")
        try await refused(["session": "made-up"], "unknown session")
        let small = try #require(try await server.upload(try Pictures.mask(width: 8, height: 8, square: (0, 0, 4, 4)))["id"] as? String)
        try await refused(["mask": small], "the mask is 8x8")

        for body in ["", "not json", "[1, 2]", "{\"task\": "] {
            let reply = try await server.request("POST", "/api/jobs", body: Array(body.utf8))
            #expect(reply.status == 400 && reply.json["error"] != nil, "\(body)")
        }
        let huge = try await server.request("POST", "/api/jobs", body: [UInt8](repeating: 0x20, count: 100_000))
        #expect(huge.status == 413)
        let unknownRoute = try await server.request("GET", "/api/secrets")
        #expect(unknownRoute.status == 404 && unknownRoute.json["code"] as? String == "not_found")
        #expect(try await server.request("GET", "/api/jobs/nope").status == 404)
        #expect(try await server.request("GET", "/api/events?session=nope").status == 404)
        // Still serving, and a good job still runs.
        let reply = try await server.json("POST", "/api/jobs", good)
        #expect(reply.status == 202)
        #expect(try await server.wait(for: try #require(reply.json["id"] as? String))["state"] as? String == "done")
    }

    /// A job without steps takes the model's own count with its own sampler (LDM inpainting: 15 DPM++ Karras
    /// steps), and the common 50 with a sampler it names.
    @Test func jobsWithoutStepsTakeTheModelsDefault() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let ids = try await images(server)
        for (sampler, steps) in [(nil, 15), ("ddim", 50)] as [(String?, Int)] {
            var job: [String: Any] = ["task": "inpaint", "model": try server.model(Self.model), "image": ids.image, "mask": ids.mask, "seed": 2,
                                      "candidates": 1]
            job["sampler"] = sampler
            let reply = try await server.json("POST", "/api/jobs", job)
            let id = try #require(reply.json["id"] as? String, "\(reply.status) \(reply.text)")
            let done = try await server.wait(for: id)
            #expect(done["state"] as? String == "done" && done["steps_requested"] as? Int == steps && done["steps"] as? Int == steps)
            #expect(done["sampler"] as? String == sampler ?? "dpmpp-2m-karras")
        }
    }

    @Test func modelsAreListedByIdOnly() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let reply = try await server.request("GET", "/api/models")
        #expect(!reply.text.contains(TestServer.repository))
        let models = try #require(reply.json["models"] as? [[String: Any]])
        let inpainting = try #require(models.first { $0["name"] as? String == Self.model })
        #expect(inpainting["task"] as? String == "inpaint" && inpainting["takes_prompt"] as? Bool == false)
        #expect(inpainting["default_sampler"] as? String == "dpmpp-2m-karras" && inpainting["default_steps"] as? Int == 15)
        // A conv-autoencoder model (ldm-edit's own family) previews 8 seeds and blends them; Stable Diffusion one.
        #expect(inpainting["default_candidates"] as? Int == 8 && inpainting["default_blend_candidates"] as? Bool == true)
        #expect((inpainting["description"] as? [String])?.first?.hasPrefix("model: inpainting") == true)
        let sd = try #require(models.first { $0["name"] as? String == "sd_inpaint_folder" })
        #expect(sd["takes_prompt"] as? Bool == true && sd["default_sampler"] as? String == "pndm" && sd["default_steps"] as? Int == 50)
        #expect(sd["default_candidates"] as? Int == 1 && sd["default_blend_candidates"] as? Bool == false)
        #expect(models.first { $0["task"] as? String == "upscale" }?["default_candidates"] == nil)
        #expect(models.last?["id"] as? String == "lanczos")
        // Text encoders alone, an SD U-Net without its text encoder, a U-Net whose config cannot build: not offered.
        for name in ["clip_text_compvis.safetensors", "sd1_compvis.safetensors", "inp_compvis.ckpt"] {
            #expect(!models.contains { $0["name"] as? String == name }, "\(name)")
        }
        #expect(server.server.catalog.skipped.map(\.name).contains("inp_compvis.ckpt"))
    }

    /// The x4 upscaler's noise level: listed with its range and default (and the model's own guidance, 9), sent
    /// with the job and used: the same seed at level 20 given = left out (the default), at 300 a different image.
    /// Refused outside 0 … 350 and for a model that takes none.
    @Test func noiseLevelReachesTheUpscaler() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let models = try #require(try await server.request("GET", "/api/models").json["models"] as? [[String: Any]])
        let x4 = try #require(models.first { $0["name"] as? String == "sd_upscale_folder" })
        #expect(x4["noise_levels"] as? [String: Int] == ["min": 0, "max": 350, "default": 20])
        #expect(x4["default_guidance"] as? Double == 9)
        #expect(models.first { $0["name"] as? String == Self.model }?["noise_levels"] == nil)
        let image = try #require(try await server.upload(try Pictures.photo(width: 16, height: 12))["id"] as? String)
        let model = try #require(x4["id"] as? String)
        func run(_ level: Int?) async throws -> [Int] {
            var job: [String: Any] = ["task": "upscale", "model": model, "image": image, "steps": 2, "seed": 3, "prompt": "a cat"]
            job["noise_level"] = level
            let reply = try await server.json("POST", "/api/jobs", job)
            #expect(reply.status == 202, "\(reply.text)")
            let done = try await server.wait(for: try #require(reply.json["id"] as? String))
            #expect(done["state"] as? String == "done" && done["noise_level"] as? Int == level ?? 20, "\(done)")
            let result = try #require(done["result"] as? [String: Any])
            let file = try await server.request("GET", "/api/images/\(try #require(result["id"] as? String))/file")
            let output = try decode(file.body)
            #expect(Provenance.parse(output.metadata.text)?.settings.noiseLevel == level ?? 20)
            #expect(output.width == 64 && output.height == 48)
            return (0..<output.height).flatMap { y in (0..<output.width).flatMap { x in (0..<3).map { output.sample(x: x, y: y, channel: $0) } } }
        }
        let (byDefault, twenty, threeHundred) = (try await run(nil), try await run(20), try await run(300))
        #expect(byDefault == twenty)
        #expect(byDefault != threeHundred)
        for (level, message) in [(351, "noise_level must be 0-350, got 351"), (-1, "noise_level must be 0-350, got -1")] {
            let reply = try await server.json("POST", "/api/jobs", ["task": "upscale", "model": model, "image": image, "prompt": "",
                                                                    "noise_level": level])
            #expect(reply.status == 400 && (reply.json["error"] as? String)?.contains(message) == true, "\(reply.text)")
        }
        let sr = try #require(models.first { $0["name"] as? String == "sr_diffusers" }?["id"] as? String)
        let refused = try await server.json("POST", "/api/jobs", ["task": "upscale", "model": sr, "image": image, "noise_level": 20])
        #expect(refused.status == 400 && (refused.json["error"] as? String)?.contains("does not noise its low-res input") == true, "\(refused.text)")
    }

    /// hole_limit: an inpainting job fills a hole wider than it coarse-to-fine, and says so in its plan; refused below
    /// the minimum and for upscaling.
    @Test func holeLimitReachesTheInpainting() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let ids = try await images(server)  // the mask's hole: 24 × 20 pixels
        let model = try server.model(Self.model)
        let reply = try await server.json("POST", "/api/jobs", ["task": "inpaint", "model": model, "image": ids.image, "mask": ids.mask,
                                                                "steps": 2, "seed": 1, "hole_limit": 16])
        #expect(reply.status == 202, "\(reply.text)")
        let done = try await server.wait(for: try #require(reply.json["id"] as? String))
        #expect(done["state"] as? String == "done" && done["hole_limit"] as? Int == 16, "\(done)")
        #expect((done["plan"] as? String)?.contains("coarse") == true && (done["plan"] as? String)?.contains("for a 20 px hole") == true, "\(done)")
        let bad = try await server.json("POST", "/api/jobs", ["task": "inpaint", "model": model, "image": ids.image, "mask": ids.mask, "hole_limit": 8])
        #expect(bad.status == 400 && (bad.json["error"] as? String)?.contains("hole limit must be at least 16") == true, "\(bad.text)")
        let upscale = try await server.json("POST", "/api/jobs", ["task": "upscale", "model": "lanczos", "image": ids.image, "hole_limit": 96])
        #expect(upscale.status == 400 && (upscale.json["error"] as? String)?.contains("inpainting only") == true, "\(upscale.text)")
        let sd = try await server.json("POST", "/api/jobs", ["task": "inpaint", "model": try server.model("sd_inpaint_folder"), "image": ids.image,
                                                             "mask": ids.mask, "prompt": "", "hole_limit": 96])
        #expect(sd.status == 400 && (sd.json["error"] as? String)?.contains("LDM inpainting models only") == true, "\(sd.text)")
    }

    /// candidates: an inpainting job previews that many seeds and names the one it kept; left out, the model's own
    /// (the fixture, of ldm-edit's own family: 8, blended); refused out of range and for upscaling.
    @Test func candidatesReachTheInpainting() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let ids = try await images(server)
        let model = try server.model(Self.model)
        let byDefault = try await server.json("POST", "/api/jobs", ["task": "inpaint", "model": model, "image": ids.image, "mask": ids.mask,
                                                                    "steps": 2, "seed": 1])
        let defaultDone = try await server.wait(for: try #require(byDefault.json["id"] as? String, "\(byDefault.text)"))
        #expect(defaultDone["state"] as? String == "done" && defaultDone["candidates"] as? Int == 8
                && defaultDone["blend_candidates"] as? Bool == true, "\(defaultDone)")
        #expect((defaultDone["plan"] as? String)?.contains("of 8 candidates (1-step previews, blended with their mean)") == true, "\(defaultDone)")
        let reply = try await server.json("POST", "/api/jobs", ["task": "inpaint", "model": model, "image": ids.image, "mask": ids.mask,
                                                                "steps": 2, "seed": 1, "candidates": 2, "blend_candidates": false])
        #expect(reply.status == 202, "\(reply.text)")
        let done = try await server.wait(for: try #require(reply.json["id"] as? String))
        #expect(done["state"] as? String == "done" && done["candidates"] as? Int == 2, "\(done)")
        #expect((done["plan"] as? String)?.contains("of 2 candidates (1-step previews)") == true, "\(done)")
        let blended = try await server.json("POST", "/api/jobs", ["task": "inpaint", "model": model, "image": ids.image, "mask": ids.mask,
                                                                  "steps": 2, "seed": 1, "candidates": 2, "blend_candidates": true])
        let blendDone = try await server.wait(for: try #require(blended.json["id"] as? String))
        #expect(blendDone["state"] as? String == "done" && blendDone["blend_candidates"] as? Bool == true, "\(blendDone)")
        #expect((blendDone["plan"] as? String)?.contains("of 2 candidates (1-step previews, blended with their mean)") == true, "\(blendDone)")
        let single = try await server.json("POST", "/api/jobs", ["task": "inpaint", "model": model, "image": ids.image, "mask": ids.mask,
                                                                 "steps": 2, "seed": 1, "candidates": 1])
        let singleDone = try await server.wait(for: try #require(single.json["id"] as? String, "\(single.text)"))
        #expect(singleDone["state"] as? String == "done" && singleDone["candidates"] == nil && singleDone["blend_candidates"] == nil, "\(singleDone)")
        let alone = try await server.json("POST", "/api/jobs", ["task": "inpaint", "model": model, "image": ids.image, "mask": ids.mask,
                                                                "candidates": 1, "blend_candidates": true])
        #expect(alone.status == 400 && (alone.json["error"] as? String)?.contains("needs candidates 2 or more") == true, "\(alone.text)")
        let sd = try await server.json("POST", "/api/jobs", ["task": "inpaint", "model": try server.model("sd_inpaint_folder"), "image": ids.image,
                                                             "mask": ids.mask, "prompt": "", "blend_candidates": true])
        #expect(sd.status == 400 && (sd.json["error"] as? String)?.contains("this model previews one seed by default") == true, "\(sd.text)")
        let bad = try await server.json("POST", "/api/jobs", ["task": "inpaint", "model": model, "image": ids.image, "mask": ids.mask, "candidates": 20])
        #expect(bad.status == 400 && (bad.json["error"] as? String)?.contains("candidates must be 1-16") == true, "\(bad.text)")
        let upscale = try await server.json("POST", "/api/jobs", ["task": "upscale", "model": "lanczos", "image": ids.image, "candidates": 2])
        #expect(upscale.status == 400 && (upscale.json["error"] as? String)?.contains("inpainting only") == true, "\(upscale.text)")
    }

    @Test func classicalUpscalingNeedsNoModel() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let image = try #require(try await server.upload(try Pictures.photo(width: 8, height: 6, depth: 16))["id"] as? String)
        let reply = try await server.json("POST", "/api/jobs", ["task": "upscale", "model": "lanczos", "image": image])
        #expect(reply.status == 202)
        let done = try await server.wait(for: try #require(reply.json["id"] as? String))
        let result = try #require(done["result"] as? [String: Any])
        #expect(result["width"] as? Int == 32 && result["height"] as? Int == 24 && result["bit_depth"] as? Int == 16)
    }
}
