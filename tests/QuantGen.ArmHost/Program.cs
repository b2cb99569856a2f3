using System.Reflection;
using System.Runtime.InteropServices;
using AdvSimd = System.Runtime.Intrinsics.Arm.AdvSimd;
using Dp = System.Runtime.Intrinsics.Arm.Dp;

// Usage: QuantGen.ArmHost <assembly.dll>
// Reports what this process runs on, then loads the assembly and prints what its
// QuantGenArmDriver.Run() returns. The caller decides what counts as correct; this program only runs the code.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: QuantGen.ArmHost <assembly.dll>");
    return 2;
}

// First, so that a caller can tell a process that took the scalar paths because the CPU lacks an extension from one
// that ran the intended ones.
Console.WriteLine($"architecture {RuntimeInformation.ProcessArchitecture}");
Console.WriteLine($"dp {Dp.IsSupported}");
Console.WriteLine($"advsimd-arm64 {AdvSimd.Arm64.IsSupported}");

var assembly = Assembly.LoadFrom(Path.GetFullPath(args[0]));
var run = assembly.GetType("QuantGenArmDriver")?.GetMethod("Run", BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes);
if (run is null || run.ReturnType != typeof(string))
{
    Console.Error.WriteLine($"{args[0]} has no public static string QuantGenArmDriver.Run()");
    return 2;
}
Console.Write((string)run.Invoke(null, null)!);
return 0;
