// The Maven ordering oracle of tests/ecosystems.rs: for each "a\tb" line of
// stdin prints -1, 0 or 1, Maven's own ComparableVersion order of a and b
// (the class `mvn` resolves version ranges with, from the installed
// maven-artifact jar). Run as a single-file source program:
//   java -cp maven-artifact.jar MavenOrder.java
import java.io.BufferedReader;
import java.io.InputStreamReader;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenOrder {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.split("\t", 2);
            int c = new ComparableVersion(p[0]).compareTo(new ComparableVersion(p[1]));
            out.append(Integer.signum(c)).append('\n');
        }
        System.out.print(out);
    }
}
