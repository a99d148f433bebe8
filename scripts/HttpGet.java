import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** `java scripts/HttpGet.java URL`: prints the body of a GET, exits 1 on an error status or no answer (curl stand-in). */
public class HttpGet {
    public static void main(String[] args) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(args[0])).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            System.out.print(r.body());
            System.exit(r.statusCode() / 100 == 2 ? 0 : 1);
        } catch (Exception e) {
            System.exit(1);
        }
    }
}
