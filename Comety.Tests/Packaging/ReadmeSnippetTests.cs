using Comety.Tests.Packaging.Infrastructure;
using Xunit.Sdk;

namespace Comety.Tests.Packaging;

/// <summary>
/// How <see cref="ReadmeAppTests"/> reads the README: which blocks it takes, and where a block for a
/// file the template made lands in that file. Fast: no build, no process.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class ReadmeSnippetTests
{
    private const string Program = """
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddControllersWithViews();

        var app = builder.Build();
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        app.UseRouting();
        app.UseAuthorization();
        app.Run();
        """;

    [Fact]
    public void New_lines_go_right_after_the_line_shown_before_them()
    {
        var merged = SnippetMerge.Apply(Program, ["builder.Services.AddControllersWithViews();", "builder.Services.AddComety();", "// …", "app.UseRouting();", "app.UseSession();"], "the block");

        Assert.Equal(
            ["builder.Services.AddControllersWithViews();", "builder.Services.AddComety();", ""],
            Lines(merged)[1..4]);
        Assert.Equal(["app.UseRouting();", "app.UseSession();", "app.UseAuthorization();"], Lines(merged)[10..13]);
    }

    [Fact]
    public void New_lines_before_an_ellipsis_go_at_the_top_and_those_after_one_right_before_the_line_after_them()
    {
        var merged = SnippetMerge.Apply(Program, ["using Comety;", "…", "app.UseHsts();", "    …", "app.UseAuthorization();"], "the block");
        var beforeRun = SnippetMerge.Apply(Program, ["…", "    app.Urls.Add(\"http://127.0.0.1:0\");", "app.Run();"], "the block");

        Assert.Equal("using Comety;", Lines(merged)[0]);
        Assert.Equal(Lines(Program), Lines(merged)[1..]);
        Assert.Equal(["    app.Urls.Add(\"http://127.0.0.1:0\");", "app.Run();"], Lines(beforeRun)[^2..]);
    }

    [Fact]
    public void A_lone_brace_or_a_blank_line_is_new_even_when_the_file_has_one()
    {
        var merged = SnippetMerge.Apply(Program, ["var app = builder.Build();", "{", "}", "", "if (!app.Environment.IsDevelopment())"], "the block");

        Assert.Equal(["var app = builder.Build();", "{", "}", "", "if (!app.Environment.IsDevelopment())"], Lines(merged)[3..8]);
    }

    [Theory]
    [InlineData("the lines shown together are apart in the file", new[] { "builder.Services.AddControllersWithViews();", "app.UseRouting();" })]
    [InlineData("nothing after a final … says where its lines go", new[] { "app.UseRouting();", "…", "app.UseSession();" })]
    [InlineData("no line of the block is in the file", new[] { "app.UseSession();" })]
    [InlineData("the block has a line the file has before the one shown before it", new[] { "app.UseRouting();", "var app = builder.Build();" })]
    public void A_block_a_reader_could_place_more_than_one_way_fails(string why, string[] block)
    {
        Assert.ThrowsAny<XunitException>(() => SnippetMerge.Apply(Program, block, why));
    }

    [Fact]
    public void The_section_gives_each_marked_block_in_order_and_fails_on_one_without_a_marker()
    {
        var readme = Path.GetTempFileName();
        try
        {
            File.WriteAllText(readme, """
                # Title

                ## Steps

                <!-- readme-app: run -->
                ```sh
                dotnet new mvc -o MyApp
                ```

                ### A part of the steps

                <!-- readme-app: Program.cs -->
                ```csharp
                builder.Services.AddComety();
                ```

                ## Elsewhere

                ```csharp
                var unmarked = "outside the section";
                ```
                """);
            var snippets = ReadmeSnippet.ReadSection(readme, "## Steps");

            Assert.Equal([("run", "sh", 7), ("Program.cs", "csharp", 14)], snippets.Select(static s => (s.Target, s.Language, s.LineNumber)));
            Assert.Equal(["builder.Services.AddComety();"], snippets[1].Lines);
            Assert.ThrowsAny<XunitException>(() => ReadmeSnippet.ReadSection(readme, "## Elsewhere"));
        }
        finally
        {
            File.Delete(readme);
        }
    }

    private static string[] Lines(string text) => text.Split('\n');
}
