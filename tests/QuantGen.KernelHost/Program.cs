using System.Reflection;
using System.Runtime.InteropServices;
using Arm = System.Runtime.Intrinsics.Arm;
using X86 = System.Runtime.Intrinsics.X86;

// Usage: QuantGen.KernelHost <assembly.dll>
// Reports what this process runs on, then loads the assembly and prints what its QuantGenKernelDriver.Run() returns.
// The caller decides what counts as correct; this program only runs the code.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: QuantGen.KernelHost <assembly.dll>");
    return 2;
}

// First, so that a caller can tell a process that took the fallback paths because the CPU (or the runtime's
// DOTNET_Enable* settings) lacks an extension from one that ran the intended ones.
Console.WriteLine($"architecture {RuntimeInformation.ProcessArchitecture}");
var features = new (string Name, bool Supported)[]
{
    ("AdvSimd.Arm64", Arm.AdvSimd.Arm64.IsSupported), ("Dp", Arm.Dp.IsSupported),
    ("Avx2", X86.Avx2.IsSupported), ("AvxVnni", X86.AvxVnni.IsSupported),
    ("Avx512F", X86.Avx512F.IsSupported), ("Avx512Vbmi", X86.Avx512Vbmi.IsSupported),
};
Console.WriteLine($"features {string.Join(",", features.Where(f => f.Supported).Select(f => f.Name))}");

var assembly = Assembly.LoadFrom(Path.GetFullPath(args[0]));
var run = assembly.GetType("QuantGenKernelDriver")?.GetMethod("Run", BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes);
if (run is null || run.ReturnType != typeof(string))
{
    Console.Error.WriteLine($"{args[0]} has no public static string QuantGenKernelDriver.Run()");
    return 2;
}
Console.Write((string)run.Invoke(null, null)!);
return 0;
