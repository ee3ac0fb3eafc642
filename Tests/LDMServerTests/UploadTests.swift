import Foundation
import LDMImageIO
import Testing
@testable import LDMServer

/// Uploads: checked from their bytes, kept under server-chosen names, refused with a JSON reason.
@Suite(.serialized) struct UploadTests {
    @Test func imagesAreDecodedAndShownAtEightBits() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let image = try await server.upload(try Pictures.photo(depth: 16), name: "scan%2016.png")
        #expect(image["width"] as? Int == 64 && image["height"] as? Int == 48)
        #expect(image["bit_depth"] as? Int == 16 && image["channels"] as? Int == 3)
        #expect(image["name"] as? String == "scan 16.png")
        let id = try #require(image["id"] as? String)
        let preview = try await server.request("GET", "/api/images/\(id)/preview")
        #expect(preview.status == 200 && preview.headers["content-type"] == "image/png")
        let shown = try decode(preview.body)
        #expect(shown.bitDepth == 8 && shown.width == 64)
        let file = try await server.request("GET", "/api/images/\(id)/file")
        #expect(try decode(file.body) == (try Pictures.photo(depth: 16)))
        #expect(file.headers["content-disposition"]?.contains("scan 16.png") == true)
        #expect(try await server.request("GET", "/api/images/nope/preview").status == 404)
    }

    @Test func badUploadsAreRefusedWithoutNamingServerFiles() async throws {
        let server = try await TestServer.start { $0.maxUploadBytes = 20_000; $0.maxPixels = 64 * 48 }
        defer { Task { await server.stop() } }
        let notAnImage = try await server.request("POST", "/api/images?name=notes.txt", body: Array("hello, world".utf8))
        #expect(notAnImage.status == 415)
        #expect(notAnImage.json["error"] as? String == "notes.txt: not a PNG, JPEG or TIFF file")

        var png = try encode(try Pictures.photo())
        png = Array(png.prefix(png.count / 2))
        let truncated = try await server.request("POST", "/api/images?name=half.png", body: png)
        #expect(truncated.status == 422)
        let message = try #require(truncated.json["error"] as? String)
        #expect(message.hasPrefix("half.png"))
        #expect(!message.contains(server.server.store.folder))

        #expect(try await server.request("POST", "/api/images", body: []).status == 400)
        let tooBig = try await server.request("POST", "/api/images?name=big.png", body: [UInt8](repeating: 0x89, count: 30_000))
        #expect(tooBig.status == 413 && tooBig.json["code"] as? String == "too_large")
        let tooManyPixels = try await server.request("POST", "/api/images?name=wide.png", body: try encode(try Pictures.photo(width: 65, height: 48)))
        #expect(tooManyPixels.status == 413)
        // Still serving.
        #expect(try await server.request("GET", "/api/info").status == 200)
        #expect(server.server.store.count == 0)
    }

    @Test func namesAreCleaned() {
        #expect(StoredImage.cleanName("../../etc/passwd") == "passwd")
        #expect(StoredImage.cleanName("C:\\photos\\a.png") == "a.png")
        #expect(StoredImage.cleanName("a\u{0}b\"c.png") == "abc.png")
        #expect(StoredImage.cleanName("..") == "image")
        #expect(StoredImage.cleanName(nil) == "image")
    }

    @Test func storeForgetsTheOldestUnpinnedImages() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-serve-store-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try ImageStore(folder: folder, capacity: 2, maxPixels: 1 << 20)
        let bytes = try encode(try Pictures.photo(width: 8, height: 8))
        let a = try store.add(upload: bytes, name: "a.png")
        store.pin([a.id])
        let b = try store.add(upload: bytes, name: "b.png")
        let c = try store.add(upload: bytes, name: "c.png")
        #expect(store[a.id] != nil && store[b.id] == nil && store[c.id] != nil)
        #expect(!FileManager.default.fileExists(atPath: b.path))
        store.unpin([a.id])
        _ = try store.add(upload: bytes, name: "d.png")
        #expect(store[a.id] == nil && store.count == 2)
    }
}

func encode(_ image: RasterImage) throws -> [UInt8] {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-serve-\(UUID().uuidString).png").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try ImageFile.write(image, to: path)
    return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

func decode(_ bytes: [UInt8]) throws -> RasterImage {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-serve-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return try ImageFile.read(path)
}
