// A library with the attributes `dotnet new classlib` projects set: no
// AssemblyProduct, so its version resource has an empty ProductName.
using System.Reflection;

[assembly: AssemblyTitle("Pare Greeting Library")]
[assembly: AssemblyCompany("pare test images")]
[assembly: AssemblyVersion("2.1.0.0")]
[assembly: AssemblyFileVersion("2.1.0.17")]
[assembly: AssemblyInformationalVersion("2.1.0")]

namespace Pare
{
    public static class Greeting
    {
        public static string Text()
        {
            return "Hello from Greeting 2.1.0";
        }
    }
}
