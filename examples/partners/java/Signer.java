// Standard Webhooks v1 with the JDK alone (Java 17+): sign, verify and send a ctip alert.
// See docs/integrations/partners.md. Run without compiling (single-file source launch):
//
//   java Signer.java sign   <whsec_secret> <webhook-id> <webhook-timestamp> <body-file>
//   java Signer.java verify <whsec_secret> <webhook-id> <webhook-timestamp> <webhook-signature> <body-file>
//   java Signer.java send   <base-url> <province-code> <whsec_inbound_secret>
//
// sign prints the webhook-signature value (v1,<base64>). verify prints "valid" (exit 0) or
// "invalid" (exit 1); it also refuses a timestamp more than 5 minutes from now. send POSTs a
// synthetic person_found CloudEvent to <base-url>/v1/inbound/<code>, prints the status and the
// answer, and exits 0 on a 2xx. The body is read and signed as bytes: never re-encode it.

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public class Signer {
    static final String PREFIX = "whsec_";
    static final long TOLERANCE_SECONDS = 300;

    /** The key: the bytes of the base64 after "whsec_". */
    static byte[] key(String secret) {
        if (!secret.startsWith(PREFIX)) {
            throw new IllegalArgumentException("a secret starts with whsec_");
        }
        return Base64.getDecoder().decode(secret.substring(PREFIX.length()));
    }

    /** HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}." followed by the raw body bytes. */
    static byte[] hmac(String secret, String id, long timestamp, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key(secret), "HmacSHA256"));
        mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
        return mac.doFinal(body);
    }

    /** The webhook-signature header value. */
    static String sign(String secret, String id, long timestamp, byte[] body) throws Exception {
        return "v1," + Base64.getEncoder().encodeToString(hmac(secret, id, timestamp, body));
    }

    /** True when one v1 entry of the header matches and the timestamp is within 5 minutes. */
    static boolean verify(String secret, String id, long timestamp, String header, byte[] body)
            throws Exception {
        if (Math.abs(Instant.now().getEpochSecond() - timestamp) > TOLERANCE_SECONDS) {
            return false;
        }
        byte[] expected = hmac(secret, id, timestamp, body);
        boolean matched = false;
        for (String entry : header.split(" ")) {
            if (!entry.startsWith("v1,")) {
                continue;
            }
            try {
                byte[] offered = Base64.getDecoder().decode(entry.substring(3));
                matched |= MessageDigest.isEqual(expected, offered); // constant-time
            } catch (IllegalArgumentException notBase64) {
                // an entry that is not base64 matches nothing
            }
        }
        return matched;
    }

    /** A synthetic person_found alert as a CloudEvent (structured JSON, UTF-8). */
    static byte[] personFound(String code) {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String json = "{\"specversion\":\"1.0\""
                + ",\"id\":\"" + UUID.randomUUID() + "\""
                + ",\"source\":\"/partners/" + code + "\""
                + ",\"type\":\"vn.ctip.interagency.alert.v1\""
                + ",\"time\":\"" + now + "\""
                + ",\"datacontenttype\":\"application/json\""
                + ",\"data\":{\"alert_type\":\"person_found\""
                + ",\"full_name\":\"L\u00f2 Th\u1ecb Mai\",\"sex\":\"female\",\"age\":17"
                + ",\"found_at\":\"" + now + "\",\"found_place\":\"Synthetic border gate\""
                + ",\"nationality\":\"VN\",\"contact_agency\":\"Synthetic border guard post\"}}";
        return json.getBytes(StandardCharsets.UTF_8);
    }

    static int send(String baseUrl, String code, String secret) throws Exception {
        byte[] body = personFound(code);
        String id = "msg_" + UUID.randomUUID().toString().replace("-", "");
        long timestamp = Instant.now().getEpochSecond();
        String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/inbound/" + code))
                .timeout(Duration.ofSeconds(15))
                .header("content-type", "application/cloudevents+json")
                .header("webhook-id", id)
                .header("webhook-timestamp", Long.toString(timestamp))
                .header("webhook-signature", sign(secret, id, timestamp, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        System.out.println(response.statusCode() + " " + response.body());
        return response.statusCode() / 100 == 2 ? 0 : 1;
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "";
        if (mode.equals("sign") && args.length == 5) {
            byte[] body = Files.readAllBytes(Path.of(args[4]));
            System.out.println(sign(args[1], args[2], Long.parseLong(args[3]), body));
        } else if (mode.equals("verify") && args.length == 6) {
            byte[] body = Files.readAllBytes(Path.of(args[5]));
            boolean ok = verify(args[1], args[2], Long.parseLong(args[3]), args[4], body);
            System.out.println(ok ? "valid" : "invalid");
            System.exit(ok ? 0 : 1);
        } else if (mode.equals("send") && args.length == 4) {
            System.exit(send(args[1], args[2], args[3]));
        } else {
            System.err.println("usage: java Signer.java sign SECRET ID TIMESTAMP BODY_FILE");
            System.err.println("       java Signer.java verify SECRET ID TIMESTAMP SIGNATURE BODY_FILE");
            System.err.println("       java Signer.java send BASE_URL CODE SECRET");
            System.exit(2);
        }
    }
}
