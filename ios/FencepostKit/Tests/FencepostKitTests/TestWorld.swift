import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The parties around the driver, played against a real `fencepost serve` (started by
/// scripts/ci/31-swift.sh, which passes FENCEPOST_URL and FENCEPOST_ADMIN_TOKEN): the admin creates a
/// store, a driver and a customer; the customer orders; the store accepts and shows its pickup QR code.
struct WorldError: Error, CustomStringConvertible { let description: String }

final class TestWorld: @unchecked Sendable {
    let base: String
    private let admin: String

    init() throws {
        let env = ProcessInfo.processInfo.environment
        guard let base = env["FENCEPOST_URL"], let admin = env["FENCEPOST_ADMIN_TOKEN"] else {
            throw WorldError(description: "FENCEPOST_URL is not set: run the tests through scripts/ci/31-swift.sh")
        }
        self.base = base
        self.admin = admin
    }

    /// One request, synchronously (the tests are sequential; bounded by a 10 s timeout).
    func request(_ method: String, _ path: String, token: String, body: [String: Any]? = nil) throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: base + path)!, timeoutInterval: 10)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue(UUID().uuidString, forHTTPHeaderField: "Idempotency-Key")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let done = DispatchSemaphore(value: 0)
        let answer = Answer()
        URLSession.shared.dataTask(with: request) { data, response, error in
            // Written before signal() and read after wait(): the semaphore orders the accesses.
            if let error { answer.result = .failure(error) } else {
                answer.result = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
            }
            done.signal()
        }.resume()
        done.wait()
        let (status, data) = try answer.result.get()
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (status, json)
    }

    func expect(_ status: Int, _ method: String, _ path: String, token: String, body: [String: Any]? = nil) throws -> [String: Any] {
        let (got, json) = try request(method, path, token: token, body: body)
        guard got == status else { throw WorldError(description: "\(method) \(path): expected \(status), got \(got): \(json)") }
        return json
    }

    func createStore(id: String, lat: Double, lon: Double) throws -> String {
        let json = try expect(201, "POST", "/admin/stores", token: admin, body: [
            "storeId": id, "name": "Pizza München", "location": ["latitude": lat, "longitude": lon],
            "fence": ["radiusM": 40], "capacity": 20])
        return json["token"] as? String ?? ""
    }

    func createDriver() throws -> String {
        try expect(201, "POST", "/admin/drivers", token: admin, body: ["name": "Aino"])["token"] as? String ?? ""
    }

    func createCustomer() throws -> String {
        try expect(201, "POST", "/admin/customers", token: admin, body: [:])["token"] as? String ?? ""
    }

    func placeOrder(customer: String, storeId: String, lat: Double, lon: Double) throws -> String {
        let json = try expect(201, "POST", "/order", token: customer, body: [
            "storeId": storeId, "paymentId": "pay-1",
            "pies": [["size": "large", "cheese": "medium", "toppings": ["basil"]]],
            "deliveryAddress": ["coordinates": ["latitude": lat, "longitude": lon], "streetAddress": "Landsberger Str. 1",
                                "city": "München", "postalCode": "80339", "province": "Bayern"]])
        return (json["order"] as? [String: Any])?["orderId"] as? String ?? ""
    }

    /// Reads the store's feed until the order's `order_placed` event and accepts with its task token.
    func storeAccepts(store: String, storeId: String, orderId: String) throws {
        let data = try storeFeedUntil(store: store) { type, data in type == "order_placed" && data["orderId"] as? String == orderId }
        _ = try expect(200, "POST", "/order/decision", token: store, body: [
            "orderId": orderId, "storeId": storeId, "accepted": true, "taskToken": data["taskToken"] as? String ?? ""])
    }

    /// The data of the first store feed event matching `match`, read from the server-sent event stream.
    func storeFeedUntil(store: String, match: @escaping (String, [String: Any]) -> Bool) throws -> [String: Any] {
        let reader = FeedReader(match: match)
        var request = URLRequest(url: URL(string: base + "/store/events?after=0")!, timeoutInterval: 10)
        request.setValue("Bearer \(store)", forHTTPHeaderField: "Authorization")
        let session = URLSession(configuration: .default, delegate: reader, delegateQueue: nil)
        let task = session.dataTask(with: request)
        task.resume()
        let found = reader.done.wait(timeout: .now() + 10)
        task.cancel()
        session.invalidateAndCancel()
        guard found == .success, let data = reader.found else {
            throw WorldError(description: "store feed: the expected event did not arrive")
        }
        return data
    }

    func pickupQr(store: String, orderId: String) throws -> String {
        try expect(200, "GET", "/order/\(orderId)/pickup-code", token: store)["qr"] as? String ?? ""
    }

    func status(store: String, orderId: String) throws -> String {
        let json = try expect(200, "GET", "/order/\(orderId)?party=store", token: store)
        return (json["order"] as? [String: Any])?["status"] as? String ?? ""
    }

    /// The Munich car trace (fixtures/traces/munich_barefoot, see its LICENSE.txt): (lat, lon) per second.
    static func munichTrace() throws -> [(Double, Double)] {
        let repo = ProcessInfo.processInfo.environment["FENCEPOST_REPO"] ?? "."
        let data = try Data(contentsOf: URL(fileURLWithPath: repo + "/fixtures/traces/munich_barefoot/x0001-001.json"))
        let rows = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
        return rows.compactMap { row in
            guard let point = row["point"] as? String, point.hasPrefix("POINT("), point.hasSuffix(")") else { return nil }
            let parts = point.dropFirst(6).dropLast().split(separator: " ")
            guard parts.count == 2, let lon = Double(parts[0]), let lat = Double(parts[1]) else { return nil }
            return (lat, lon)
        }
    }
}

private final class Answer: @unchecked Sendable {
    var result: Result<(Int, Data), Error> = .failure(WorldError(description: "no answer"))
}

/// Parses `event:`/`data:` lines as they stream in and signals at the first match.
private final class FeedReader: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    private(set) var found: [String: Any]?
    private let match: (String, [String: Any]) -> Bool
    private var buffer = ""
    private var type = ""

    init(match: @escaping (String, [String: Any]) -> Bool) { self.match = match }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard found == nil else { return }
        buffer += String(decoding: data, as: UTF8.self)
        while let newline = buffer.firstIndex(of: "\n") {
            let line = String(buffer[..<newline]).trimmingCharacters(in: .whitespaces)
            buffer = String(buffer[buffer.index(after: newline)...])
            if line.hasPrefix("event:") {
                type = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("data:") {
                let json = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
                if let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any], match(type, object) {
                    found = object
                    done.signal()
                    return
                }
            }
        }
    }
}
