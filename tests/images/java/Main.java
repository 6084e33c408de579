// A small web app on the JRE alone (com.sun.net.httpserver), run as
// `java -cp /app Main`. Each answer is computed by parts of the JRE that
// live outside the launcher and libjvm: the class library in lib/modules,
// the security providers configured under conf/ (a symlink into
// /etc/java-17-openjdk on Debian) for SHA-256, and the CLDR locale data of
// jdk.localedata for the German month name. Lose any and the answer is
// wrong or the server never starts, which tests check.
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Locale;

public class Main {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8088"));
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/", exchange -> {
            byte[] body;
            try {
                body = answer().getBytes(StandardCharsets.UTF_8);
            } catch (Exception e) {
                body = ("error: " + e).getBytes(StandardCharsets.UTF_8);
            }
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        System.out.println("listening on " + port);
    }

    static String answer() throws Exception {
        int primes = 0;
        for (int n = 2; n < 100_000; n++) {
            if (BigInteger.valueOf(n).isProbablePrime(50)) {
                primes++;
            }
        }
        byte[] digest = MessageDigest.getInstance("SHA-256")
            .digest("pare".getBytes(StandardCharsets.UTF_8));
        String month = LocalDate.of(2024, 3, 1)
            .format(DateTimeFormatter.ofPattern("MMMM", Locale.GERMANY));
        return "primes below 100000: " + primes + "\n"
            + "sha256(pare): " + HexFormat.of().formatHex(digest) + "\n"
            + "month: " + month + "\n";
    }
}
