package dev.fencepost

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.UUID

/**
 * The parties around the driver, played against a real `fencepost serve` (started by
 * scripts/ci/30-kotlin.sh, which exports FENCEPOST_URL and FENCEPOST_ADMIN_TOKEN): the admin creates a
 * store, a driver and a customer; the customer orders; the store accepts and shows its pickup QR code.
 *
 * JSON is read with small regular expressions: the JVM test classpath deliberately has no JSON library
 * (kotlinc + Debian jars only), and the fields read here are plain strings.
 */
class TestWorld {
    val base: String = System.getenv("FENCEPOST_URL")
        ?: error("FENCEPOST_URL is not set: run the tests through scripts/ci/30-kotlin.sh")
    private val admin: String = System.getenv("FENCEPOST_ADMIN_TOKEN") ?: error("FENCEPOST_ADMIN_TOKEN is not set")
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    fun post(path: String, token: String, body: String): Pair<Int, String> {
        val request = HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer $token")
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", UUID.randomUUID().toString())
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        return response.statusCode() to response.body()
    }

    fun get(path: String, token: String): Pair<Int, String> {
        val request = HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer $token")
            .GET()
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        return response.statusCode() to response.body()
    }

    fun createStore(id: String, lat: Double, lon: Double): String {
        val (status, body) = post("/admin/stores", admin,
            """{"storeId":"$id","name":"Pizza München","location":{"latitude":$lat,"longitude":$lon},""" +
                """"fence":{"radiusM":40},"capacity":20}""")
        check(status == 201) { "create store: $status $body" }
        return field(body, "token")
    }

    fun createDriver(): String = field(expect(201, post("/admin/drivers", admin, """{"name":"Aino"}""")), "token")

    fun createCustomer(): String = field(expect(201, post("/admin/customers", admin, "{}")), "token")

    fun placeOrder(customer: String, storeId: String, lat: Double, lon: Double): String {
        val body = expect(201, post("/order", customer,
            """{"storeId":"$storeId","paymentId":"pay-1","pies":[{"size":"large","cheese":"medium","toppings":["basil"]}],""" +
                """"deliveryAddress":{"coordinates":{"latitude":$lat,"longitude":$lon},"streetAddress":"Landsberger Str. 1",""" +
                """"city":"München","postalCode":"80339","province":"Bayern"}}"""))
        return field(body, "orderId")
    }

    /** Reads the store's event feed until the order's `order_placed` event, and accepts with its token. */
    fun storeAccepts(store: String, storeId: String, orderId: String) {
        val token = storeFeedUntil(store) { type, data -> type == "order_placed" && orderId in data }
            .let { field(it, "taskToken") }
        expect(200, post("/order/decision", store,
            """{"orderId":"$orderId","storeId":"$storeId","accepted":true,"taskToken":"$token"}"""))
    }

    /** The data of the first store feed event matching [match] (bounded by a 10 s request timeout). */
    fun storeFeedUntil(store: String, match: (String, String) -> Boolean): String {
        val request = HttpRequest.newBuilder(URI.create("$base/store/events?after=0"))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer $store")
            .GET()
            .build()
        val lines = http.send(request, HttpResponse.BodyHandlers.ofLines()).body()
        try {
            var type = ""
            for (line in lines.iterator()) {
                when {
                    line.startsWith("event:") -> type = line.removePrefix("event:").trim()
                    line.startsWith("data:") -> {
                        val data = line.removePrefix("data:").trim()
                        if (match(type, data)) return data
                    }
                }
            }
        } finally {
            lines.close()
        }
        error("store feed ended without the expected event")
    }

    fun pickupQr(store: String, orderId: String): String =
        field(expect(200, get("/order/$orderId/pickup-code", store)), "qr")

    fun status(store: String, orderId: String): String =
        field(expect(200, get("/order/$orderId?party=store", store)), "status")

    private fun expect(status: Int, response: Pair<Int, String>): String {
        check(response.first == status) { "expected $status, got ${response.first}: ${response.second}" }
        return response.second
    }

    companion object {
        fun field(json: String, name: String): String =
            Regex("\"$name\"\\s*:\\s*\"([^\"]*)\"").find(json)?.groupValues?.get(1)
                ?: error("no \"$name\" in $json")

        /** The Munich car trace (fixtures/traces/munich_barefoot, see its LICENSE.txt): (lat, lon) per second. */
        fun munichTrace(): List<Pair<Double, Double>> {
            val repo = System.getenv("FENCEPOST_REPO") ?: "."
            val text = File("$repo/fixtures/traces/munich_barefoot/x0001-001.json").readText()
            return Regex("POINT\\(([-0-9.]+) ([-0-9.]+)\\)").findAll(text)
                .map { it.groupValues[2].toDouble() to it.groupValues[1].toDouble() }
                .toList()
        }
    }
}
