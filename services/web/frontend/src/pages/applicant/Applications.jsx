// Placeholder: this screen is being built (issue 15).
export default function Applications() {
  return (
    <section>
      <h1>Applications</h1>
    </section>
  );
}
