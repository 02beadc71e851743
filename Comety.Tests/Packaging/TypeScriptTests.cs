using Comety.Tests.Packaging.Infrastructure;

namespace Comety.Tests.Packaging;

/// <summary>
/// comety.d.ts checked by the TypeScript compiler (from the npm registry, hence the category) against
/// pages written as a TypeScript user would: one on the global script, one importing comety.mjs.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class TypeScriptTests
{
    [Fact]
    public async Task Pages_that_use_the_api_correctly_compile_and_each_wrong_use_they_mark_is_rejected()
    {
        // A line marked @ts-expect-error that compiles fails the check: the wrong uses are rejected too.
        var (exitCode, output) = await TypeScriptCompiler.CheckAsync("global-page.ts", "module-page.ts");

        Assert.True(exitCode == 0, $"tsc exited with {exitCode}:\n{output}");
    }

    [Fact]
    public async Task A_page_with_an_unmarked_wrong_use_fails_to_compile_at_that_line()
    {
        var (exitCode, output) = await TypeScriptCompiler.CheckAsync("wrong-page.ts");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("wrong-page.ts(3,1): error TS2322: Type '\"websocket\"' is not assignable to type 'Transport'.", output, StringComparison.Ordinal);
    }
}
