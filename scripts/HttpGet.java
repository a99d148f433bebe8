import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** `java scripts/HttpGet.java URL`: prints the body of a GET, exits 1 on an error status or no answer (curl stand-in);
 * sends RAFTKV_TOKEN as a bearer token when set. */
public class HttpGet {
    public static void main(String[] args) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(args[0])).timeout(Duration.ofSeconds(2));
            String token = System.getenv("RAFTKV_TOKEN"); // with authentication on
            if (token != null && !token.isBlank()) {
                b.header("Authorization", "Bearer " + token.trim());
            }
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            System.out.print(r.body());
            System.exit(r.statusCode() / 100 == 2 ? 0 : 1);
        } catch (Exception e) {
            System.exit(1);
        }
    }
}
