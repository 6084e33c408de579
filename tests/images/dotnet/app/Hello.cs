// An application with the attributes an SDK-style project sets, the
// informational version carrying a source revision as `dotnet build` writes
// it (SourceLink): `1.4.0+<commit>`.
using System;
using System.Reflection;

[assembly: AssemblyTitle("Pare Hello")]
[assembly: AssemblyDescription("pare's .NET test application")]
[assembly: AssemblyCompany("pare test images")]
[assembly: AssemblyProduct("Pare.Hello")]
[assembly: AssemblyCopyright("(c) pare authors")]
[assembly: AssemblyVersion("1.4.0.0")]
[assembly: AssemblyFileVersion("1.4.0.0")]
[assembly: AssemblyInformationalVersion("1.4.0+8d3f2c1a5b7e9d0c4f6a8b2e1d3c5a7f9b0e2d4c")]

public static class Hello
{
    public static void Main()
    {
        Console.WriteLine(Pare.Greeting.Text());
    }
}
