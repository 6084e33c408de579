// The fat jar's entry point: prints its nested libraries. (The libraries
// under BOOT-INF/lib are for `pare sbom`; no class loader reads them.)
public class Main {
    public static void main(String[] args) throws Exception {
        try (var jar = new java.util.jar.JarFile(
                Main.class.getProtectionDomain().getCodeSource().getLocation().getPath())) {
            jar.stream()
                .filter(e -> e.getName().startsWith("BOOT-INF/lib/"))
                .forEach(e -> System.out.println(e.getName()));
        }
    }
}
