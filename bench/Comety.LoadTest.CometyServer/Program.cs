using Comety;
using Comety.LoadTest;
using Comety.LoadTest.CometyServer;
using Comety.PostgreSql;

// The Comety side of the load test: a minimal application with one CometyController subclass
// mapped at /updates with MapComety (its lean endpoints; MVC's services serve its answers), a registration endpoint that gives each simulated browser its cookie,
// and the shared /bench control endpoints. Run by Comety.LoadTest; binds where --urls says.
// With a connection string (--ConnectionStrings:Comety=... or ConnectionStrings__Comety=...), the
// dispatcher runs on the shared PostgreSQL log (AddCometyPostgreSql): several of these servers on
// one database share users, channels and events, and /bench/append measures appends.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddControllers();
// Default settings, but for the rooms the simulated browsers subscribe to themselves.
builder.Services.AddComety(options => options.ClientChannels.Add("room-*"));
builder.Services.AddSingleton<IBenchPublisher, CometyPublisher>();
var postgreSql = builder.Configuration.GetConnectionString(PostgreSqlEventLogOptions.ConnectionStringName);
if (postgreSql is not null)
{
    // Bench:MaxAppendBatch: how many posts one append transaction takes at most (the option's default otherwise).
    var maxAppendBatch = builder.Configuration.GetValue<int?>("Bench:MaxAppendBatch");
    builder.Services.AddCometyPostgreSql(options =>
    {
        options.ConnectionString = postgreSql;
        options.MaxAppendBatch = maxAppendBatch ?? options.MaxAppendBatch;
    });
}

var app = builder.Build();
app.UseInFlightCounter("/updates");
app.MapComety<BenchUpdatesController>("updates");

// Registration: what a page of the application does when it is first served.
app.MapPost("/register", async (HttpContext context, CometyDispatcher dispatcher) =>
{
    var userId = Guid.NewGuid().ToString("N");
    await dispatcher.RegisterUserAsync(userId);
    context.Response.Cookies.Append(BenchUpdatesController.UserCookie, userId, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict });
    return Results.NoContent();
});

app.MapPost("/logout", async (HttpContext context, CometyDispatcher dispatcher) =>
{
    if (context.Request.Cookies[BenchUpdatesController.UserCookie] is { } userId && dispatcher.IsRegistered(userId))
    {
        await dispatcher.UnregisterUserAsync(userId);
    }

    return Results.NoContent();
});

app.MapBenchControl(app.Services.GetRequiredService<IBenchPublisher>());
if (postgreSql is not null)
{
    app.MapSustainedAppend();
}

app.Run();
